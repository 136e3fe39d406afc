import dev.atmsae.api.*;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

public class Quickstart {
    public static void main(String[] args) {
        // Your model's activations, one float[] per token (random stand-ins here): 60,000 to train on, 5,000 held out.
        Random random = new Random(0);
        float[][] acts = new float[65_000][64];
        for (float[] token : acts) {
            for (int j = 0; j < token.length; j++) token[j] = (float) random.nextGaussian();
        }
        Shards.write(Path.of("shards/train/00000.npy"), Arrays.copyOfRange(acts, 0, 60_000));
        Shards.write(Path.of("shards/heldout/00000.npy"), Arrays.copyOfRange(acts, 60_000, 65_000));

        // Train a TopK SAE on the shards (or .source(yourActivationSource) to stream from your program instead).
        TrainingResult run = Training.builder()
                .architecture("topk").width(256).k(16).tokens(300_000).batchSize(1024).seed(1)
                .shards(Path.of("shards/train"))
                .outputDirectory(Path.of("runs/topk"))
                .listener(p -> { if (p.step() % 100 == 0) System.out.println(p); })
                .build().run();     // training.cancel() stops it with a checkpoint; Training.resume(dir) continues it
        System.out.println(run);

        // Load it (or any SAELens directory: standard / topk / jumprelu, or Gemma Scope params.npz) on the CPU or CUDA.
        try (Sae sae = Sae.load(run.saeDirectory().orElseThrow(), Device.cpu())) {
            System.out.println(sae);
            float[] codes = sae.encode(acts[0]);          // also float[][], FloatBuffer and MemorySegment batches
            List<Sae.Latent> top = sae.topLatents(acts[0], 5);
            ReconstructionMetrics m = Evaluation.reconstruction(sae, Path.of("shards/heldout"));
            System.out.println(codes.length + " latents, strongest " + top + "\n" + m);
        }
    }
}
