package dev.atmsae.cli;

import dev.atmsae.util.UserError;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** atmsae synth — not yet implemented. */
@Command(name = "synth", mixinStandardHelpOptions = true, description = "(not yet implemented)")
public final class SynthCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UserError("synth: not implemented yet");
    }
}
