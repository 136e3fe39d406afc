package dev.atmsae.cli;

import dev.atmsae.util.UserError;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** atmsae eval — not yet implemented. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "(not yet implemented)")
public final class EvalCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UserError("eval: not implemented yet");
    }
}
