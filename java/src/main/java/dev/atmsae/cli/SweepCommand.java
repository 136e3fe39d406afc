package dev.atmsae.cli;

import dev.atmsae.util.UserError;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** atmsae sweep — not yet implemented. */
@Command(name = "sweep", mixinStandardHelpOptions = true, description = "(not yet implemented)")
public final class SweepCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UserError("sweep: not implemented yet");
    }
}
