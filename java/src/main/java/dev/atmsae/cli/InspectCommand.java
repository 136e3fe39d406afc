package dev.atmsae.cli;

import dev.atmsae.util.UserError;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** atmsae inspect — not yet implemented. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "(not yet implemented)")
public final class InspectCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UserError("inspect: not implemented yet");
    }
}
