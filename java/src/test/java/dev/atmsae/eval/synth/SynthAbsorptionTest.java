package dev.atmsae.eval.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.eval.absorption.AbsorptionEval;
import dev.atmsae.eval.absorption.AbsorptionOptions;
import dev.atmsae.eval.absorption.AbsorptionReport;
import dev.atmsae.eval.absorption.ProbeSet;
import org.junit.jupiter.api.Test;

class SynthAbsorptionTest {
    private static final SynthGenerator GEN = new SynthGenerator(HandBuiltSaes.config());
    private static final SynthGenerator.Batch EVAL = GEN.generate(0, HandBuiltSaes.config().evalTokens());

    @Test
    void absorbingSaeScoresHighAgainstTruth() {
        SynthAbsorption.Report r = SynthAbsorption.run(GEN, EVAL, HandBuiltSaes.absorbing(GEN));
        SynthAbsorption.TreeResult t = r.trees().get(0);
        // the parent latent is silent exactly when a child fires: half of the parent's samples
        assertArrayEquals(new int[] {0}, t.mainLatents(), "k-sparse main latents " + java.util.Arrays.toString(t.mainLatents())
                + " F1s " + java.util.Arrays.toString(t.f1PerK()));
        assertEquals(0, t.parentLatent());
        assertTrue(t.fraction() > 0.4 && t.fraction() < 0.6, "fraction " + t.fraction());
        assertTrue(t.full() > 0.4 && t.full() < 0.6, "full " + t.full());
        assertEquals(t.fraction(), t.fractionCos(), 1e-12);
        assertTrue(t.silentGivenChild() > 0.99, "silent | child " + t.silentGivenChild());
        assertTrue(t.silentGivenNoChild() < 0.01, "silent | no child " + t.silentGivenNoChild());
        assertEquals(1 / Math.sqrt(2), t.childLatentCosWithParent(), 1e-5);
        // child rows are absorbed (unless a small child magnitude puts T/A under 0.4), rows without a child are not
        double childSum = 0;
        int childRows = 0;
        for (var c : t.children()) {
            if (c.child().equals("(none)")) {
                assertEquals(0.0, c.absorptionFraction(), 0.0, c.toString());
            } else {
                childSum += c.absorptionFraction() * c.nScored();
                childRows += c.nScored();
            }
        }
        assertTrue(childRows > 50 && childSum / childRows > 0.9, "child rows " + childRows + " mean " + childSum / childRows);
        assertTrue(r.mmcs() < 0.8 && r.mcc() < 0.8, "mmcs " + r.mmcs() + " mcc " + r.mcc());
    }

    @Test
    void cleanSaeScoresZero() {
        SynthAbsorption.Report r = SynthAbsorption.run(GEN, EVAL, HandBuiltSaes.clean(GEN));
        SynthAbsorption.TreeResult t = r.trees().get(0);
        assertArrayEquals(new int[] {0}, t.mainLatents());
        assertTrue(t.fraction() < 0.01, "fraction " + t.fraction());
        assertEquals(0.0, t.full(), 0.0);
        assertTrue(t.legacy() < 0.01, "legacy " + t.legacy());
        assertEquals(0.0, t.silentGivenChild(), 0.0);
        assertEquals(1.0, r.mmcs(), 1e-5);
        assertEquals(1.0, r.mcc(), 1e-5);
        assertEquals(0.0, t.childLatentCosWithParent(), 1e-5);
    }

    @Test
    void probeSetPathAgreesOnTheTruthProbeSet() {
        ProbeSet set = SynthFiles.probeSet(GEN, EVAL);
        AbsorptionOptions opts = AbsorptionOptions.defaults();
        AbsorptionReport absorbing = AbsorptionEval.run(set, HandBuiltSaes.absorbing(GEN), opts);
        AbsorptionReport clean = AbsorptionEval.run(set, HandBuiltSaes.clean(GEN), opts);
        AbsorptionReport.ClassResult a = absorbing.classes().get(0);
        assertTrue(a.kept() && a.probe().f1() > 0.95, "probe " + a.probe());
        assertTrue(absorbing.valid());
        assertTrue(absorbing.meanAbsorptionFraction() > 0.3, "absorbing fraction " + absorbing.meanAbsorptionFraction());
        assertTrue(absorbing.meanFullAbsorption() > 0.3, "absorbing full " + absorbing.meanFullAbsorption());
        assertTrue(clean.meanAbsorptionFraction() < 0.05, "clean fraction " + clean.meanAbsorptionFraction());
        assertEquals(0.0, clean.meanFullAbsorption(), 0.0);
        // the absorbing latents are child latents and fire for child rows only
        for (AbsorptionReport.AbsorbingLatent l : a.absorbingLatents()) {
            assertTrue(l.latent() >= 1 && l.latent() <= 30, "absorber " + l);
            assertTrue(!l.children().containsKey("(none)"), "absorber " + l);
        }
    }
}
