package dev.atmsae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The progress line shows step, tokens/s, ETA, loss parts, L0, dead % and stall %; quiet prints nothing. */
class ProgressReporterTest {
    private static Map<String, Object> metrics() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch_tokens", 4096);
        m.put("loss", 1.25);
        m.put("mse", 1.0);
        m.put("sparsityLoss", 0.25);
        m.put("l0", 31.96);
        m.put("deadFraction", 0.125);
        return m;
    }

    @Test
    void lineCarriesEveryField() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressReporter p = new ProgressReporter(new PrintStream(buf, true, StandardCharsets.UTF_8), false, false, 1000);
        p.update(250, 81920, 0.031, metrics(), true);
        String line = buf.toString(StandardCharsets.UTF_8).strip();
        assertEquals("step  250/1000  25.0% | 81.9k tok/s | ETA 0m38s | loss 1.250 | mse 1.000 | sparse 0.2500"
                + " | l0 32.0 | dead 12.5% | stall 3%", line);
    }

    @Test
    void quietPrintsNothing() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressReporter p = new ProgressReporter(new PrintStream(buf, true, StandardCharsets.UTF_8), true, true, 10);
        p.update(1, 1, 0, metrics(), true);
        p.message("done");
        p.finish();
        assertEquals(0, buf.size());
    }

    @Test
    void terminalRedrawsInPlace() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressReporter p = new ProgressReporter(new PrintStream(buf, true, StandardCharsets.UTF_8), false, true, 10);
        p.update(1, 100, 0, metrics(), true);
        p.update(2, 100, 0, metrics(), true);
        p.finish();
        String s = buf.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("\rstep  1/10"), s);
        assertTrue(s.contains("\rstep  2/10"), s);
        assertTrue(s.endsWith("\n"), s);
    }
}
