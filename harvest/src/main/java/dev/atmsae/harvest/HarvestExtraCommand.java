package dev.atmsae.harvest;

import dev.atmsae.cli.ExtraCommand;

/** Contributes {@code atmsae harvest} to the CLI when this module is on the class path (ServiceLoader). */
public final class HarvestExtraCommand implements ExtraCommand {
    @Override
    public Object command() {
        return new HarvestCommand();
    }
}
