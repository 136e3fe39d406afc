package dev.atmsae.cli;

import dev.atmsae.util.UserError;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** atmsae absorption — not yet implemented. */
@Command(name = "absorption", mixinStandardHelpOptions = true, description = "(not yet implemented)")
public final class AbsorptionCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UserError("absorption: not implemented yet");
    }
}
