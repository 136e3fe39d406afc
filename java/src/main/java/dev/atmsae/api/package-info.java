/**
 * The public Java API of atmsae: everything a JVM program needs to load, run, train and evaluate sparse autoencoders
 * (SAEs) without the command line. It is the only supported surface of the {@code dev.atmsae:atmsae} artifact; every
 * other package of the jar is internal and may change in any release (a test fails the build if an internal type
 * appears in a signature here).
 *
 * <ul>
 *   <li>{@link dev.atmsae.api.Sae}: load an SAE from disk (SAELens {@code standard}, {@code topk}, {@code jumprelu}
 *       directories — which includes atmsae's own exports — and Gemma Scope's {@code params.npz}) and run
 *       {@code encode}, {@code decode}, {@code forward} and the top-k active latents on one vector or batches
 *       ({@code float[][]}, {@link java.nio.FloatBuffer}, {@link java.lang.foreign.MemorySegment}).</li>
 *   <li>{@link dev.atmsae.api.Training}: train an SAE (ATM, TopK, BatchTopK, JumpReLU, ReLU) on activation shards
 *       or on an {@link dev.atmsae.api.ActivationSource} the program implements, with a progress listener, cancel,
 *       checkpoints and resume; the result is an SAELens directory.</li>
 *   <li>{@link dev.atmsae.api.Evaluation}: reconstruction metrics on activations and feature absorption on a
 *       {@link dev.atmsae.api.ProbeSet} built in code or loaded from disk.</li>
 *   <li>{@link dev.atmsae.api.Shards}: write activations the program holds as shards on disk.</li>
 *   <li>{@link dev.atmsae.api.Device}: where the math runs (the CPU engine or CUDA).</li>
 * </ul>
 *
 * <p><b>Errors.</b> A problem with the caller's input — a file that is not an SAE, a missing tensor, a setting out of
 * range, activations of the wrong width on disk — is an {@link dev.atmsae.api.AtmsaeException} (unchecked) whose
 * message is the one line the {@code atmsae} command line prints for the same mistake. Programming errors (array
 * lengths that do not match the SAE, use after close) are {@link java.lang.IllegalArgumentException} and
 * {@link java.lang.IllegalStateException}.
 *
 * <p><b>Side effects.</b> Nothing here calls {@code System.exit}, installs signal handlers or prints: progress reaches
 * the caller through {@link dev.atmsae.api.TrainingListener}. Training writes only into the output directory it was
 * given. The only process-wide state is what the engines keep: the CPU engine's OpenBLAS binding (loaded once) and,
 * on CUDA, the driver context of the device.
 *
 * <p><b>Runtime.</b> Java 25 with {@code --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED} and
 * nothing else, as the README shows. The first makes the Vector API, which the CPU engine's kernels use, available;
 * without it the first API call throws an {@link dev.atmsae.api.AtmsaeException} naming it, before any work. The
 * second lets the engines call OpenBLAS and the CUDA driver without a JDK warning; a JVM that denies native access
 * gets an {@code AtmsaeException} naming it.
 */
package dev.atmsae.api;
