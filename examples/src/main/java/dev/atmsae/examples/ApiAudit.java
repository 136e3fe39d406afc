package dev.atmsae.examples;

import dev.atmsae.api.AbsorptionResult;
import dev.atmsae.api.ActivationSource;
import dev.atmsae.api.AtmsaeException;
import dev.atmsae.api.Device;
import dev.atmsae.api.Evaluation;
import dev.atmsae.api.ProbeSet;
import dev.atmsae.api.ReconstructionMetrics;
import dev.atmsae.api.Sae;
import dev.atmsae.api.Shards;
import dev.atmsae.api.Training;
import dev.atmsae.api.TrainingListener;
import dev.atmsae.api.TrainingProgress;
import dev.atmsae.api.TrainingResult;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

/**
 * Calls every public method and constructor of {@code dev.atmsae.api} at least once, in a JVM started with exactly the
 * README's options, and checks how each fails when it should:
 * <ul>
 *   <li>a correct call does not throw;</li>
 *   <li>a user mistake or a setup problem (a path that is not an SAE, shards with NaN, a bad setting, no GPU) is an
 *       {@link AtmsaeException} with a one-line message naming the thing — never a dependency's raw exception;</li>
 *   <li>a programming error the Javadoc names (wrong array length, use after close, null) is that exception, thrown
 *       by the API itself.</li>
 * </ul>
 * At the end the methods called are compared with the API's public methods found by reflection in the installed jar,
 * so a new public method without a call here fails {@code make test}. Exits non-zero listing every violation.
 */
public final class ApiAudit {
    private static final int D = ToyModel.DIM;

    private final Path work;
    private final ToyModel model = new ToyModel(7);
    private final Set<String> called = new TreeSet<>();
    private final List<String> violations = new ArrayList<>();
    private int checks;

    private ApiAudit(Path work) {
        this.work = work;
    }

    public static void main(String[] args) throws Exception {
        ApiAudit audit = new ApiAudit(Path.of(args.length > 0 ? args[0] : "").toAbsolutePath().normalize());
        audit.run();
        Set<String> missing = new TreeSet<>(publicApi());
        missing.removeAll(audit.called);
        for (String m : missing) {
            audit.violations.add(m + ": public, but this audit never calls it");
        }
        System.out.println("api audit: " + audit.checks + " checks, " + audit.called.size() + " public methods and "
                + "constructors called, " + audit.violations.size() + " violations");
        if (!audit.violations.isEmpty()) {
            audit.violations.forEach(v -> System.out.println("  VIOLATION " + v));
            System.exit(1);
        }
    }

    // ------------------------------------------------------------------ the calls

    private void run() throws IOException {
        float[][] rows = model.rows(1, 6_000);
        Path train = work.resolve("shards/train/00000.npy");
        Path heldOut = work.resolve("shards/heldout/00000.npy");
        okDo("Shards.write(Path,float[][])", () -> Shards.write(train, rows));
        Shards.write(heldOut, model.rows(2, 3_000));
        shardMistakes(rows);

        ActivationSource source = ok("ActivationSource.ofRows(float[][])", () -> ActivationSource.ofRows(rows));
        ok("ActivationSource.dim()", source::dim);
        okDo("ActivationSource.fill(long,int,FloatBuffer)", () -> source.fill(0, 2, FloatBuffer.allocate(2 * D)));
        misuse("ActivationSource.ofRows(float[][])", IllegalArgumentException.class,
                () -> ActivationSource.ofRows(new float[0][]));

        Device cpu = ok("Device.cpu(int)", () -> Device.cpu(1));
        ok("Device.cpu()", Device::cpu);
        ok("Device.toString()", cpu::toString);
        misuse("Device.cpu(int)", IllegalArgumentException.class, () -> Device.cpu(0));

        TrainingResult result = training(train, source, cpu);
        trainingMistakes(train, rows, cpu);

        Path trained = result.saeDirectory().orElseThrow();
        try (Sae sae = ok("Sae.load(Path,Device)", () -> Sae.load(trained, cpu))) {
            inspect(sae);
            evaluation(sae, heldOut, source);
        }
        try (Sae sae = ok("TrainingResult.loadSae(Device)", () -> result.loadSae(Device.cpu(1)))) {
            check(sae.width() == 64, "TrainingResult.loadSae loaded width " + sae.width());
        }
        try (Sae sae = ok("Sae.load(Path)", () -> Sae.load(trained))) {
            check(sae.toString().contains("d_in " + D), "Sae.toString() lacks d_in: " + sae);
        }
        try (Sae sae = ok("Device.auto()", () -> Sae.load(trained, Device.auto()))) {
            check(!sae.toString().isEmpty(), "Device.auto()");
        }
        setupProblem("Device.cuda()", "cuda", () -> Sae.load(trained, Device.cuda()).close());
        loadMistakes(trained);
        probeSets(trained);

        AtmsaeException e = ok("AtmsaeException(String,Throwable)", () -> new AtmsaeException("x: problem", null));
        check(e.getMessage().equals("x: problem"), "AtmsaeException message");
        records();
    }

    private TrainingResult training(Path shards, ActivationSource source, Device cpu) {
        List<TrainingProgress> seen = new ArrayList<>();
        TrainingListener listener = p -> {
            called.add("TrainingListener.onProgress(TrainingProgress)");
            seen.add(p);
        };
        Training.Builder b = ok("Training.builder()", Training::builder);
        ok("Training.Builder.architecture(String)", () -> b.architecture("topk"));
        ok("Training.Builder.width(int)", () -> b.width(64));
        ok("Training.Builder.k(int)", () -> b.k(4));
        ok("Training.Builder.batchSize(int)", () -> b.batchSize(512));
        ok("Training.Builder.learningRate(double)", () -> b.learningRate(4e-3));
        ok("Training.Builder.seed(long)", () -> b.seed(3));
        ok("Training.Builder.set(String,Object)", () -> b.set("grad_clip", 1.0));
        ok("Training.Builder.tokens(long)", () -> b.tokens(40_000));
        ok("Training.Builder.device(Device)", () -> b.device(cpu));
        ok("Training.Builder.shards(Path)", () -> b.shards(shards));
        ok("Training.Builder.outputDirectory(Path)", () -> b.outputDirectory(work.resolve("runs/topk")));
        ok("Training.Builder.checkpointEvery(long)", () -> b.checkpointEvery(40));
        ok("Training.Builder.metricsEvery(int)", () -> b.metricsEvery(10));
        ok("Training.Builder.shuffleBatches(int)", () -> b.shuffleBatches(4));
        ok("Training.Builder.metadata(String,Object)", () -> b.metadata("model_name", "toy"));
        ok("Training.Builder.listener(TrainingListener)", () -> b.listener(listener));
        Training training = ok("Training.Builder.build()", b::build);
        TrainingResult result = ok("Training.run()", training::run);
        check(result.completed() && !seen.isEmpty(), "the shards run did not complete or report: " + result);
        misuse("Training.run()", IllegalStateException.class, training::run);
        TrainingProgress last = seen.getLast();
        ok("TrainingProgress.toString()", last::toString);
        check(last.toString().contains("step " + last.step() + "/" + last.totalSteps()), "progress: " + last);
        ok("TrainingResult.toString()", result::toString);
        check(result.toString().contains("completed") && result.toString().contains("topk width 64"),
                "TrainingResult.toString(): " + result);

        // A run on an in-process source, cancelled from its listener, then resumed to the end.
        Training[] cancellable = new Training[1];
        Training streamed = Training.builder().architecture("relu").width(64).batchSize(512).tokens(20_000).seed(1)
                .source(source).device(cpu).outputDirectory(work.resolve("runs/relu"))
                .listener(p -> {
                    if (p.step() == 3) {
                        okDo("Training.cancel()", cancellable[0]::cancel);
                    }
                }).build();
        cancellable[0] = streamed;
        ok("Training.Builder.source(ActivationSource)", () -> Training.builder().source(source));
        ok("Training.Builder.targetL0(double)", () -> Training.builder().targetL0(8));
        TrainingResult stopped = streamed.run();
        check(!stopped.completed() && "cancelled".equals(stopped.stopReason()), "cancel: " + stopped);
        check(stopped.toString().contains("stopped (cancelled)"), "TrainingResult.toString() of a stop: " + stopped);
        misuse("TrainingResult.loadSae(Device)", IllegalStateException.class, () -> stopped.loadSae(cpu));
        check(stopped.saeDirectory().isEmpty(), "a cancelled run has no SAE directory");
        Training.Builder resumed = ok("Training.resume(Path)", () -> Training.resume(work.resolve("runs/relu")));
        TrainingResult finished = resumed.source(source).build().run();
        check(finished.completed() && finished.steps() == finished.totalSteps(), "resume: " + finished);
        return result;
    }

    private void inspect(Sae sae) {
        ok("Sae.architecture()", sae::architecture);
        ok("Sae.inputDim()", sae::inputDim);
        ok("Sae.width()", sae::width);
        ok("Sae.k()", sae::k);
        ok("Sae.normalization()", sae::normalization);
        ok("Sae.format()", sae::format);
        ok("Sae.source()", sae::source);
        ok("Sae.metadata()", sae::metadata);
        ok("Sae.engineDescription()", sae::engineDescription);
        String text = ok("Sae.toString()", sae::toString);
        check(text.contains("topk k=4") && text.contains("d_in " + D + " × d_sae 64") && text.contains("cpu (1 thread)")
                && text.contains(sae.source().toString()), "Sae.toString(): " + text);

        float[] x = model.rows(3, 1)[0];
        float[][] batch = model.rows(4, 3);
        float[] f = ok("Sae.encode(float[])", () -> sae.encode(x));
        ok("Sae.encode(float[][])", () -> sae.encode(batch));
        ok("Sae.decode(float[])", () -> sae.decode(f));
        ok("Sae.decode(float[][])", () -> sae.decode(new float[][] {f}));
        float[] xhat = ok("Sae.forward(float[])", () -> sae.forward(x));
        ok("Sae.forward(float[][])", () -> sae.forward(batch));
        float[] decoded = sae.decode(f);
        double worst = 0;
        for (int j = 0; j < D; j++) {
            worst = Math.max(worst, Math.abs(xhat[j] - decoded[j]) / (1 + Math.abs(decoded[j])));
        }
        check(worst < 1e-5, "forward(x) differs from decode(encode(x)) by " + worst + " (relative)");
        FloatBuffer in = FloatBuffer.wrap(x);
        okDo("Sae.encode(FloatBuffer,FloatBuffer)", () -> sae.encode(in, FloatBuffer.allocate(sae.width())));
        okDo("Sae.decode(FloatBuffer,FloatBuffer)", () -> sae.decode(FloatBuffer.wrap(f), FloatBuffer.allocate(D)));
        okDo("Sae.forward(FloatBuffer,FloatBuffer)", () -> sae.forward(in, FloatBuffer.allocate(D)));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, x);
            MemorySegment codes = arena.allocate(4L * sae.width());
            okDo("Sae.encode(MemorySegment,MemorySegment)", () -> sae.encode(seg, codes));
            okDo("Sae.decode(MemorySegment,MemorySegment)", () -> sae.decode(codes, arena.allocate(4L * D)));
            okDo("Sae.forward(MemorySegment,MemorySegment)", () -> sae.forward(seg, arena.allocate(4L * D)));
            misuse("Sae.encode(MemorySegment,MemorySegment)", IllegalArgumentException.class,
                    () -> sae.encode(seg.asSlice(0, 4L * D - 4), codes));
        }
        List<Sae.Latent> top = ok("Sae.topLatents(float[],int)", () -> sae.topLatents(x, 3));
        ok("Sae.topLatents(float[][],int)", () -> sae.topLatents(batch, 3));
        check(!top.isEmpty() && top.size() <= 3, "topLatents: " + top);

        misuse("Sae.encode(float[])", IllegalArgumentException.class, () -> sae.encode(new float[D + 1]));
        misuse("Sae.encode(float[][])", IllegalArgumentException.class, () -> sae.encode(new float[][] {new float[1]}));
        misuse("Sae.decode(float[])", IllegalArgumentException.class, () -> sae.decode(new float[1]));
        misuse("Sae.topLatents(float[],int)", IllegalArgumentException.class, () -> sae.topLatents(x, 0));
        misuse("Sae.forward(FloatBuffer,FloatBuffer)", IllegalArgumentException.class,
                () -> sae.forward(FloatBuffer.allocate(D + 1), FloatBuffer.allocate(2 * D)));
        misuse("Sae.encode(FloatBuffer,FloatBuffer)", IllegalArgumentException.class,
                () -> sae.encode(FloatBuffer.wrap(x), FloatBuffer.allocate(1)));
        misuse("Sae.encode(float[])", NullPointerException.class, () -> sae.encode((float[]) null));
    }

    private void evaluation(Sae sae, Path heldOut, ActivationSource source) throws IOException {
        ReconstructionMetrics m = ok("Evaluation.reconstruction(Sae,Path)", () -> Evaluation.reconstruction(sae, heldOut));
        check(m.tokens() == 3_000, "evaluated " + m.tokens() + " of the 3000 held-out rows");
        ok("Evaluation.reconstruction(Sae,ActivationSource,long)", () -> Evaluation.reconstruction(sae, source, 2_000));
        misuse("Evaluation.reconstruction(Sae,ActivationSource,long)", IllegalArgumentException.class,
                () -> Evaluation.reconstruction(sae, source, 0));

        Path wide = work.resolve("mistakes/wide.npy");
        Shards.write(wide, new float[][] {new float[D + 3], new float[D + 3]});
        mistake("Evaluation.reconstruction(Sae,Path)", "shards of another width", "wide.npy",
                () -> Evaluation.reconstruction(sae, wide));
        mistake("Evaluation.reconstruction(Sae,Path)", "a missing path", "nowhere",
                () -> Evaluation.reconstruction(sae, work.resolve("nowhere")));
        Path empty = Files.createDirectories(work.resolve("mistakes/empty"));
        mistake("Evaluation.reconstruction(Sae,Path)", "a directory without shards", "empty",
                () -> Evaluation.reconstruction(sae, empty));
        Path nan = work.resolve("mistakes/nan/00000.npy");
        writeNpyWithNaN(nan, 50, 17);
        mistake("Evaluation.reconstruction(Sae,Path)", "a NaN in the shards", "00000.npy",
                () -> Evaluation.reconstruction(sae, nan.getParent()));
        mistake("Evaluation.reconstruction(Sae,ActivationSource,long)", "a NaN from a source", "NaN",
                () -> Evaluation.reconstruction(sae, nanSource(), 100));
        mistake("Evaluation.reconstruction(Sae,ActivationSource,long)", "a source of another width", "d",
                () -> Evaluation.reconstruction(sae, ActivationSource.ofRows(new float[][] {new float[D + 1]}), 10));

        Path layerNorm = work.resolve("saelens-layer-norm");
        SaeLensDirectory.write(layerNorm, new float[D * 8], new float[8], new float[8 * D], new float[D], "layer_norm");
        try (Sae normalising = Sae.load(layerNorm, Device.cpu(1))) {
            check(normalising.toString().contains("normalize_activations layer_norm"), "Sae.toString(): " + normalising);
            mistake("Evaluation.reconstruction(Sae,Path)", "an SAE that normalises every token", "normaliz",
                    () -> Evaluation.reconstruction(normalising, heldOut));
        }
    }

    private void probeSets(Path trained) throws IOException {
        ProbeSet.Builder b = ok("ProbeSet.builder(String,int)", () -> ProbeSet.builder("audit", D));
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        okDo("ProbeSet.Builder.add(float[],String,String,boolean)", () -> {
            for (int i = 0; i < 1_200; i++) {
                ToyModel.Token t = model.token(r);
                String parent = t.tree() < 0 ? null : "tree" + t.tree();
                String child = t.child() < 0 ? null : parent + "/c" + t.child();
                b.add(t.x(), parent, child, i % 4 == 0);
            }
        });
        misuse("ProbeSet.Builder.add(float[],String,String,boolean)", IllegalArgumentException.class,
                () -> b.add(new float[D + 1], "tree0", null, true));
        misuse("ProbeSet.Builder.add(float[],String,String,boolean)", IllegalArgumentException.class,
                () -> b.add(new float[D], null, "orphan", true));
        misuse("ProbeSet.builder(String,int)", IllegalArgumentException.class, () -> ProbeSet.builder("none", 0));
        misuse("ProbeSet.Builder.build()", IllegalArgumentException.class,
                () -> ProbeSet.builder("negatives only", D).add(new float[D], null, null, true).build());
        ProbeSet set = ok("ProbeSet.Builder.build()", b::build);
        ok("ProbeSet.name()", set::name);
        ok("ProbeSet.dim()", set::dim);
        ok("ProbeSet.size()", set::size);
        ok("ProbeSet.parents()", set::parents);
        String text = ok("ProbeSet.toString()", set::toString);
        check(text.contains("1200 rows of d " + D) && text.contains("300 test") && text.contains("tree0"),
                "ProbeSet.toString(): " + text);
        Path dir = work.resolve("probes");
        okDo("ProbeSet.save(Path)", () -> set.save(dir));
        ProbeSet back = ok("ProbeSet.load(Path)", () -> ProbeSet.load(dir));
        check(back.size() == set.size() && back.toString().contains("from " + dir), "ProbeSet.load: " + back);
        mistake("ProbeSet.load(Path)", "a missing directory", "nowhere", () -> ProbeSet.load(work.resolve("nowhere")));
        Path broken = Files.createDirectories(work.resolve("mistakes/broken-probes"));
        Files.writeString(broken.resolve("probe_set.json"), "{ not json");
        Files.write(broken.resolve("acts.npy"), new byte[10]);
        mistake("ProbeSet.load(Path)", "a broken probe set", "broken-probes", () -> ProbeSet.load(broken));
        Path aFile = Files.writeString(work.resolve("mistakes/a-file"), "x");
        mistake("ProbeSet.save(Path)", "a directory below a regular file", "a-file",
                () -> set.save(aFile.resolve("probes")));

        try (Sae sae = Sae.load(trained, Device.cpu(1))) {
            AbsorptionResult a = ok("Evaluation.absorption(Sae,ProbeSet)", () -> Evaluation.absorption(sae, set));
            ok("Evaluation.absorption(Sae,ProbeSet,double)", () -> Evaluation.absorption(sae, set, 0.5));
            check(a.classes().size() == 4, "absorption classes: " + a.classes());
            String line = ok("AbsorptionResult.toString()", a::toString);
            check(line.contains("classes kept") && !line.contains("{"), "AbsorptionResult.toString(): " + line);
            for (AbsorptionResult.ClassResult c : a.classes()) {
                ok("AbsorptionResult.ClassResult.toString()", c::toString);
                check(c.toString().startsWith("ClassResult[" + c.name()), "ClassResult.toString(): " + c);
            }
            mistake("Evaluation.absorption(Sae,ProbeSet,double)", "a probe F1 filter out of range", "1.0",
                    () -> Evaluation.absorption(sae, set, 1.0));
            ProbeSet narrow = ProbeSet.builder("narrow", D + 1).add(new float[D + 1], "a", null, true).build();
            mistake("Evaluation.absorption(Sae,ProbeSet)", "a probe set of another width", "d = " + (D + 1),
                    () -> Evaluation.absorption(sae, narrow));
            sae.close();
            okDo("Sae.close()", sae::close); // idempotent
            misuse("Sae.encode(float[])", IllegalStateException.class, () -> sae.encode(new float[D]));
            misuse("Evaluation.absorption(Sae,ProbeSet)", IllegalStateException.class,
                    () -> Evaluation.absorption(sae, set));
        }
    }

    // ------------------------------------------------------------------ user mistakes and setup problems

    private void shardMistakes(float[][] rows) throws IOException {
        mistake("Shards.write(Path,float[][])", "a name that is not .npy", "shard.txt",
                () -> Shards.write(work.resolve("mistakes/shard.txt"), rows));
        float[][] nan = {new float[D], new float[D]};
        nan[1][3] = Float.NaN;
        mistake("Shards.write(Path,float[][])", "a NaN activation", "rows[1]",
                () -> Shards.write(work.resolve("mistakes/nan.npy"), nan));
        Path aFile = Files.writeString(Files.createDirectories(work.resolve("mistakes")).resolve("plain-file"), "x");
        mistake("Shards.write(Path,float[][])", "a directory below a regular file", "plain-file",
                () -> Shards.write(aFile.resolve("00000.npy"), rows));
        misuse("Shards.write(Path,float[][])", IllegalArgumentException.class,
                () -> Shards.write(work.resolve("mistakes/ragged.npy"), new float[][] {new float[2], new float[3]}));
    }

    private void trainingMistakes(Path shards, float[][] rows, Device cpu) throws IOException {
        Path out = work.resolve("mistakes/run");
        mistake("Training.Builder.build()", "no tokens", "tokens",
                () -> Training.builder().architecture("topk").k(4).width(64).shards(shards).outputDirectory(out).build());
        mistake("Training.Builder.build()", "no data", "shards",
                () -> Training.builder().tokens(1000).outputDirectory(out).build());
        mistake("Training.Builder.build()", "no output directory", "outputDirectory",
                () -> Training.builder().tokens(1000).shards(shards).build());
        mistake("Training.Builder.build()", "an unknown setting", "no_such_key",
                () -> tiny(shards, out).set("no_such_key", 1).build());
        mistake("Training.Builder.build()", "an unknown architecture", "gated",
                () -> tiny(shards, out).architecture("gated").build());
        mistake("Training.Builder.build()", "a zero width", "width",
                () -> tiny(shards, out).width(0).build());
        mistake("Training.Builder.build()", "a setting of the wrong type", "lr",
                () -> tiny(shards, out).set("lr", "fast").build());
        mistake("Training.Builder.build()", "a negative checkpoint interval", "checkpointEvery",
                () -> tiny(shards, out).checkpointEvery(-1).build());
        mistake("Training.Builder.build()", "a zero metrics interval", "metricsEvery",
                () -> tiny(shards, out).metricsEvery(0).build());
        mistake("Training.run()", "missing shards", "nowhere",
                () -> tiny(work.resolve("nowhere"), out).build().run());
        Path few = work.resolve("mistakes/few/00000.npy");
        Shards.write(few, Arrays.copyOf(rows, 10));
        mistake("Training.run()", "fewer rows than one batch", "few",
                () -> tiny(few.getParent(), out).build().run());
        Path nan = work.resolve("mistakes/nan-train/00000.npy");
        writeNpyWithNaN(nan, 600, 300);
        mistake("Training.run()", "a NaN in the training shards", "00000.npy",
                () -> tiny(nan.getParent(), out).build().run());
        Path aFile = Files.writeString(work.resolve("mistakes/output-is-a-file"), "x");
        mistake("Training.run()", "an output directory that is a file", "output-is-a-file",
                () -> tiny(shards, aFile).build().run());
        mistake("Training.run()", "a source that yields NaN", "NaN",
                () -> tiny(shards, out).source(nanSource()).build().run());
        mistake("Training.run()", "a source that fills too little", "filled",
                () -> tiny(shards, out).source(new ActivationSource() {
                    @Override
                    public int dim() {
                        return D;
                    }

                    @Override
                    public void fill(long batchIndex, int n, FloatBuffer buffer) {
                        buffer.put(new float[D]);
                    }
                }).build().run());
        mistake("Training.resume(Path)", "a directory without a checkpoint", "checkpoint",
                () -> Training.resume(work.resolve("mistakes")));
        mistake("Training.Builder.build()", "a resume that sets hyperparameters", "width",
                () -> Training.resume(work.resolve("runs/topk")).width(128).build());
        mistake("Training.Builder.build()", "a target L0 on TopK", "target_l0",
                () -> tiny(shards, out).targetL0(8).build());
    }

    private Training.Builder tiny(Path shards, Path out) {
        return Training.builder().architecture("topk").width(64).k(4).tokens(2_048).batchSize(512).device(Device.cpu(1))
                .shards(shards).outputDirectory(out);
    }

    private void loadMistakes(Path trained) throws IOException {
        mistake("Sae.load(Path)", "a missing path", "nowhere", () -> Sae.load(work.resolve("nowhere")));
        Path noCfg = Files.createDirectories(work.resolve("mistakes/no-cfg"));
        mistake("Sae.load(Path)", "a directory without cfg.json", "no-cfg", () -> Sae.load(noCfg));
        Path badJson = Files.createDirectories(work.resolve("mistakes/bad-json"));
        Files.writeString(badJson.resolve("cfg.json"), "{ \"d_in\": ");
        Files.copy(trained.resolve("sae_weights.safetensors"), badJson.resolve("sae_weights.safetensors"));
        mistake("Sae.load(Path)", "a cfg.json that is not JSON", "cfg.json", () -> Sae.load(badJson));
        Path truncated = Files.createDirectories(work.resolve("mistakes/truncated"));
        Files.copy(trained.resolve("cfg.json"), truncated.resolve("cfg.json"));
        byte[] weights = Files.readAllBytes(trained.resolve("sae_weights.safetensors"));
        Files.write(truncated.resolve("sae_weights.safetensors"), Arrays.copyOf(weights, weights.length / 2));
        mistake("Sae.load(Path)", "truncated weights", "sae_weights.safetensors", () -> Sae.load(truncated));
        Path garbage = Files.createDirectories(work.resolve("mistakes/garbage"));
        Files.copy(trained.resolve("cfg.json"), garbage.resolve("cfg.json"));
        Files.write(garbage.resolve("sae_weights.safetensors"), new byte[] {(byte) 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        mistake("Sae.load(Path)", "weights that are not safetensors", "sae_weights.safetensors",
                () -> Sae.load(garbage));
        mistake("Sae.load(Path,Device)", "a shard instead of an SAE", "00000.npy",
                () -> Sae.load(work.resolve("shards/train/00000.npy"), Device.cpu(1)));
        misuse("Sae.load(Path,Device)", NullPointerException.class, () -> Sae.load(trained, null));
    }

    private static ActivationSource nanSource() {
        return new ActivationSource() {
            @Override
            public int dim() {
                return D;
            }

            @Override
            public void fill(long batchIndex, int n, FloatBuffer buffer) {
                float[] values = new float[n * D];
                values[values.length / 2] = Float.NaN;
                buffer.put(values);
            }
        };
    }

    /** A float32 .npy of {@code rows} × d zeros with a NaN in row {@code badRow}, written without the library. */
    private static void writeNpyWithNaN(Path file, int rows, int badRow) throws IOException {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + D + "), }";
        StringBuilder header = new StringBuilder(dict);
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(10 + header.length() + 4 * rows * D)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
                .putShort((short) header.length()).put(header.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.putFloat(b.position() + 4 * (badRow * D + 5), Float.NaN);
        Files.createDirectories(file.getParent());
        Files.write(file, b.array());
    }

    // ------------------------------------------------------------------ the value records

    private void records() {
        ReconstructionMetrics m = ok("ReconstructionMetrics(double,double,double,double,double,double,double,long)",
                () -> new ReconstructionMetrics(0.5, 0.25, 0.75, 0.9, 8, 3, 0.125, 1000));
        accessors("ReconstructionMetrics", m, "mse", "fvu", "explainedVariance", "cosineSimilarity", "l0", "l1",
                "deadFraction", "tokens");
        String text = ok("ReconstructionMetrics.toString()", m::toString);
        check(text.equals("ReconstructionMetrics[1000 tokens: fvu 0.2500 (explained variance 0.7500), mse 0.5000, "
                + "cosine 0.900, L0 8.00, L1 3.000, dead 12.5%]"), "ReconstructionMetrics.toString(): " + text);

        TrainingProgress p = ok("TrainingProgress(long,long,long,double,double,double,double,double,double,double)",
                () -> new TrainingProgress(5, 10, 5120, 1, 0.5, 8, 0, 0, 1e-3, 1000));
        accessors("TrainingProgress", p, "step", "totalSteps", "tokens", "loss", "mse", "l0", "deadFraction",
                "sparsityCoefficient", "learningRate", "tokensPerSecond");

        TrainingResult r = ok("TrainingResult(boolean,String,long,long,Path,Map)",
                () -> new TrainingResult(true, null, 10, 10, work.resolve("runs/topk"), Map.of()));
        accessors("TrainingResult", r, "completed", "stopReason", "steps", "totalSteps", "directory", "summary");
        ok("TrainingResult.saeDirectory()", r::saeDirectory);

        AbsorptionResult.ClassResult c = ok("AbsorptionResult.ClassResult(String,boolean,String,double,double,List)",
                () -> new AbsorptionResult.ClassResult("tree0", true, null, 0.25, 0.125, List.of(3, 7)));
        accessors("AbsorptionResult.ClassResult", c, "name", "kept", "dropReason", "absorptionFraction",
                "fullAbsorption", "mainLatents");
        AbsorptionResult a = ok("AbsorptionResult(double,double,double,int,boolean,List,String)",
                () -> new AbsorptionResult(0.25, 0.2, 0.125, 1, true, List.of(c), "{}"));
        accessors("AbsorptionResult", a, "meanAbsorptionFraction", "meanAbsorptionFractionLegacy",
                "meanFullAbsorption", "classesKept", "valid", "classes", "json");

        Sae.Latent l = ok("Sae.Latent(int,float)", () -> new Sae.Latent(3, 1.5f));
        accessors("Sae.Latent", l, "index", "activation");
        ok("Sae.Latent.toString()", l::toString);
    }

    /** Calls the named no-argument accessors of a record reflectively (they are generated and cannot fail). */
    private void accessors(String type, Object record, String... names) {
        for (String name : names) {
            ok(type + "." + name + "()", () -> {
                try {
                    return record.getClass().getMethod(name).invoke(record);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    // ------------------------------------------------------------------ the harness

    /** A correct call: must not throw. */
    private <T> T ok(String method, Supplier<T> call) {
        called.add(method);
        checks++;
        try {
            return call.get();
        } catch (RuntimeException | Error e) {
            violations.add(method + ": a correct call threw " + e);
            e.printStackTrace(System.out);
            throw new IllegalStateException("cannot continue the audit after " + method, e);
        }
    }

    private void okDo(String method, Runnable call) {
        ok(method, () -> {
            call.run();
            return null;
        });
    }

    /** A user mistake: must be an AtmsaeException with a one-line message that mentions {@code mentions}. */
    private void mistake(String method, String what, String mentions, Runnable call) {
        called.add(method);
        checks++;
        try {
            call.run();
            violations.add(method + " with " + what + ": no exception");
        } catch (AtmsaeException e) {
            String message = String.valueOf(e.getMessage());
            if (!message.contains(mentions) || message.contains("\n")) {
                violations.add(method + " with " + what + ": the message should be one line naming '" + mentions
                        + "': " + message);
            } else {
                System.out.println("ok  " + method + " with " + what + ": " + message);
            }
        } catch (RuntimeException | Error e) {
            violations.add(method + " with " + what + ": " + e.getClass().getName() + " instead of AtmsaeException: "
                    + e.getMessage());
        }
    }

    /** A setup problem that may or may not be present here (a GPU): succeed, or fail as an AtmsaeException. */
    private void setupProblem(String method, String mentions, Runnable call) {
        called.add(method);
        checks++;
        try {
            call.run();
            System.out.println("ok  " + method + ": available here");
        } catch (AtmsaeException e) {
            if (!String.valueOf(e.getMessage()).contains(mentions)) {
                violations.add(method + ": the message should name '" + mentions + "': " + e.getMessage());
            } else {
                System.out.println("ok  " + method + " is unavailable here: " + e.getMessage());
            }
        } catch (RuntimeException | Error e) {
            violations.add(method + ": " + e.getClass().getName() + " instead of AtmsaeException: " + e.getMessage());
        }
    }

    /** A programming error the Javadoc names: must be {@code type}, thrown by the API itself. */
    private void misuse(String method, Class<? extends RuntimeException> type, Runnable call) {
        called.add(method);
        checks++;
        try {
            call.run();
            violations.add(method + ": misuse passed without " + type.getSimpleName());
        } catch (RuntimeException e) {
            StackTraceElement thrower = Arrays.stream(e.getStackTrace())
                    .filter(f -> !f.getClassName().startsWith("java.")).findFirst().orElse(null);
            if (!type.isInstance(e) || thrower == null || !thrower.getClassName().startsWith("dev.atmsae.api.")) {
                violations.add(method + ": expected " + type.getSimpleName() + " from dev.atmsae.api, got " + e
                        + " from " + thrower);
            }
        }
    }

    private void check(boolean ok, String problem) {
        checks++;
        if (!ok) {
            violations.add(problem);
        }
    }

    // ------------------------------------------------------------------ the public API, by reflection

    /** "Type.method(ParamType,...)" for every public method and constructor of the installed jar's dev.atmsae.api. */
    private static Set<String> publicApi() throws IOException {
        Path jar;
        try {
            jar = Path.of(Sae.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        Set<String> api = new TreeSet<>();
        try (JarFile file = new JarFile(jar.toFile())) {
            for (String entry : file.stream().map(java.util.zip.ZipEntry::getName)
                    .filter(n -> n.matches("dev/atmsae/api/[^/]+\\.class")).toList()) {
                Class<?> type = load(entry.replace('/', '.').replace(".class", ""));
                if (!isPublic(type)) {
                    continue;
                }
                List<Executable> members = new ArrayList<>(Arrays.asList(type.getDeclaredConstructors()));
                members.addAll(Arrays.asList(type.getDeclaredMethods()));
                for (Executable m : members) {
                    boolean objectMethod = m instanceof Method method && (method.getName().equals("equals")
                            || method.getName().equals("hashCode"));
                    if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && !objectMethod
                            && !(m instanceof Method method && method.isBridge())) {
                        api.add(signature(type, m));
                    }
                }
            }
        }
        return api;
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, ApiAudit.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isPublic(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
            if (!Modifier.isPublic(c.getModifiers()) || c.isAnonymousClass()) {
                return false;
            }
        }
        return true;
    }

    private static String signature(Class<?> type, Executable m) {
        String owner = type.getName().substring("dev.atmsae.api.".length()).replace('$', '.');
        String params = Arrays.stream(m.getParameterTypes()).map(Class::getSimpleName).collect(Collectors.joining(","));
        return m instanceof Constructor<?> ? owner + "(" + params + ")" : owner + "." + m.getName() + "(" + params + ")";
    }
}
