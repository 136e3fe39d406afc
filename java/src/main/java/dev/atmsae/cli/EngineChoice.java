package dev.atmsae.cli;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import picocli.CommandLine;

/** Turns the {@code --engine} and {@code --threads} options into an engine (shared by train and eval). */
final class EngineChoice {
    private EngineChoice() {
    }

    static Engine open(String name, Integer threads, CommandLine command) {
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        return switch (name) {
            case "cpu" -> Engines.cpu(t, false);
            case "cuda" -> Engines.cuda();
            case "auto" -> Engines.auto(t);
            default -> throw new CommandLine.ParameterException(command,
                    "--engine must be cpu, cuda or auto, got '" + name + "'");
        };
    }
}
