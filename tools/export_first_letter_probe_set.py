#!/usr/bin/env python3
"""Build SAEBench's first-letter probe set from a Hugging Face causal LM, in atmsae's probe-set format.

What it reproduces (docs/probe-sets.md, specs absorption.md §1–§2):
  * vocabulary: every token whose string, minus at most one leading space, is non-empty and all [a-zA-Z];
    label = its first letter, lower-cased (class 0..25); one prompt per word;
  * split: words shuffled, first 80 % train, last 20 % test (by word); ICL examples of a train word come from the
    train words, of a test word from the test words;
  * prompt: 10 ICL examples "{word} has the first letter: {LETTER}" joined by "\\n", a leading "\\n", then
    "\\n{word} has the first letter:"; words keep their own leading space; a BOS token is prepended when the
    tokenizer has one (TransformerLens' default);
  * activation: resid_post of --layer (= hidden_states[layer + 1]) at position -6, which must be the word token
    (prompts where it is not, because the tokenizer merged differently, are skipped and counted).

Output: OUT/acts.npy [N, d] float32 and OUT/probe_set.json (kind "first-letter"; parents a..z without children).
Usage:  python tools/export_first_letter_probe_set.py --model EleutherAI/pythia-70m-deduped --layer 3 --out pl
Needs:  pip install torch transformers numpy   (not run in atmsae's CI)
"""
import argparse
import json
import os
import random
import re
import string

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ALPHA = re.compile(r"^[a-zA-Z]+$")
TEMPLATE = "{word} has the first letter:"
POSITION = -6


def alpha_tokens(tok):
    """(token id, word string) for every alphabetic single-token word (leading space kept)."""
    out = []
    for tid in range(len(tok)):
        piece = tok.convert_ids_to_tokens(tid)
        s = tok.convert_tokens_to_string([piece])
        if isinstance(piece, str) and piece.startswith("\u2581") and not s.startswith(" "):
            s = " " + s  # SentencePiece drops the word-start space here; SAEBench restores it (Mistral fix)
        stripped = s[1:] if s.startswith(" ") else s
        if stripped and ALPHA.match(stripped):
            out.append((tid, s))
    return out


def prompt(word, pool, rng, n_examples=10):
    examples = rng.sample(pool, n_examples)
    for _ in range(1000):
        if word not in examples:
            break
        examples = rng.sample(pool, n_examples)
    shots = [TEMPLATE.format(word=w) + " " + w.strip()[0].upper() for w in examples]
    return "\n" + "\n".join(shots) + "\n" + TEMPLATE.format(word=word)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--layer", type=int, required=True, help="block index; resid_post = hidden_states[layer + 1]")
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-words", type=int, default=0, help="subsample the vocabulary (0 = all)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32).to(args.device).eval()
    rng = random.Random(args.seed)
    vocab = alpha_tokens(tok)
    rng.shuffle(vocab)
    if args.max_words:
        vocab = vocab[: args.max_words]
    cut = int(0.8 * len(vocab))
    splits = [(vocab[:cut], 0), (vocab[cut:], 1)]

    acts, parent, split, group, words, skipped = [], [], [], [], [], 0
    for items, split_id in splits:
        pool = [w for _, w in items]
        for start in range(0, len(items), args.batch_size):
            batch = items[start : start + args.batch_size]
            ids = []
            for _, w in batch:
                t = tok(prompt(w, pool, rng), add_special_tokens=False)["input_ids"]
                if tok.bos_token_id is not None:
                    t = [tok.bos_token_id] + t
                ids.append(t)
            width = max(len(t) for t in ids)
            pad = tok.pad_token_id if tok.pad_token_id is not None else 0
            input_ids = torch.tensor([t + [pad] * (width - len(t)) for t in ids], device=args.device)  # right padding
            mask = torch.tensor([[1] * len(t) + [0] * (width - len(t)) for t in ids], device=args.device)
            with torch.no_grad():
                hidden = model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True).hidden_states
            layer = hidden[args.layer + 1]
            for b, ((tid, w), t) in enumerate(zip(batch, ids)):
                pos = len(t) + POSITION
                if t[pos] != tid:  # the word did not stay one token at position -6
                    skipped += 1
                    continue
                acts.append(layer[b, pos].float().cpu().numpy())
                parent.append(string.ascii_lowercase.index(w.strip()[0].lower()))
                split.append(split_id)
                group.append(tid)
                words.append(w)

    os.makedirs(args.out, exist_ok=True)
    x = np.stack(acts).astype(np.float32)
    np.save(os.path.join(args.out, "acts.npy"), x)
    meta = {
        "format": "atmsae-probe-set/1",
        "name": "first-letter",
        "kind": "first-letter",
        "d": int(x.shape[1]),
        "n": int(x.shape[0]),
        "source": {"model": args.model, "layer": args.layer, "hook": f"blocks.{args.layer}.hook_resid_post",
                   "prompt": TEMPLATE, "icl_examples": 10, "position": POSITION, "seed": args.seed,
                   "skipped_multi_token": skipped},
        "parents": [{"name": c, "children": []} for c in string.ascii_lowercase],
        "parent": parent,
        "child": [-1] * len(parent),
        "split": split,
        "group": group,
        "word": words,
    }
    with open(os.path.join(args.out, "probe_set.json"), "w") as f:
        json.dump(meta, f)
    print(f"wrote {x.shape[0]} rows (d = {x.shape[1]}), skipped {skipped}, to {args.out}")


if __name__ == "__main__":
    main()
