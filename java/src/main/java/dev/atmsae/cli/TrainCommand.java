package dev.atmsae.cli;

import dev.atmsae.util.UserError;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** atmsae train — not yet implemented. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "(not yet implemented)")
public final class TrainCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UserError("train: not implemented yet");
    }
}
