package dev.atmsae.cli;

import dev.atmsae.util.UserError;
import java.io.PrintWriter;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code atmsae} command line: one thin command class per verb, each calling the library.
 * Exit codes: 0 success, 1 a data problem (one line naming the file), 2 a usage problem (one line plus usage).
 * Stack traces appear only with {@code --debug}.
 */
@Command(name = "atmsae", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Sparse autoencoders with Adaptive Temporal Masking: train, evaluate, measure absorption.",
        subcommands = {InspectCommand.class, TrainCommand.class, EvalCommand.class, SynthCommand.class,
                AbsorptionCommand.class, SweepCommand.class, ReportCommand.class, StudyCommand.class,
                RegimeMapCommand.class,
                BrowseCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @Option(names = "--debug", description = "Print stack traces for errors.", scope = CommandLine.ScopeType.INHERIT)
    boolean debug;

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (used by tests, which must not call System.exit). */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /**
     * As {@link #run(String...)}, printing to {@code stdout}/{@code stderr} instead of System.out/System.err (either may be
     * null for the default); lets tests capture what a command prints.
     */
    public static int run(PrintWriter stdout, PrintWriter stderr, String... args) {
        boolean debug = java.util.Arrays.asList(args).contains("--debug");
        CommandLine cli = commandLine();
        if (stdout != null) {
            cli.setOut(stdout);
        }
        if (stderr != null) {
            cli.setErr(stderr);
        }
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (debug) {
                ex.printStackTrace(err);
            }
            Throwable cause = ex;
            while (!(cause instanceof UserError) && cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
            if (cause instanceof UserError user) {
                err.println("atmsae: " + user.getMessage());
                return 1;
            }
            err.println("atmsae: internal error: " + ex + (debug ? "" : " (run with --debug for the stack trace)"));
            return 3;
        });
        cli.setParameterExceptionHandler((ex, args1) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("atmsae: " + ex.getMessage());
            c.getErr().println("Usage: " + c.getCommandSpec().qualifiedName() + " ... (see '" + c.getCommandSpec().qualifiedName() + " --help')");
            return 2;
        });
        return cli.execute(args);
    }

    /** The command tree including verbs contributed by optional modules (e.g. {@code harvest}). */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        for (ExtraCommand extra : ServiceLoader.load(ExtraCommand.class)) {
            cli.addSubcommand(extra.command());
        }
        return cli;
    }

    /** Reports the project version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"atmsae " + (v == null ? "dev" : v)};
        }
    }
}
