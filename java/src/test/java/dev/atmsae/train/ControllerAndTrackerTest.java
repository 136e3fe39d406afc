package dev.atmsae.train;

import dev.atmsae.arch.DeadLatentTracker;
import dev.atmsae.core.ArchKind;
import dev.atmsae.core.Schedules;
import dev.atmsae.core.SparsityController;
import dev.atmsae.core.TrainConfig;
import dev.atmsae.engine.Tensor;
import dev.atmsae.engine.cpu.CpuEngine;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControllerAndTrackerTest {
    @Test
    void controllerWaitsForWarmupMovesMultiplicativelyAndFreezes() {
        // 100 steps, relu: λ warm-up 5 steps, controller active on steps 6..80
        TrainConfig cfg = TrainConfig.defaults(ArchKind.RELU).with(Map.of("target_l0", 10.0, "l1_coeff", 2.0,
                "l0_ctrl_ema", 0.0));
        SparsityController c = new SparsityController(cfg, new Schedules(cfg, 100));
        for (long s = 1; s <= 5; s++) {
            c.observe(s, 40);
        }
        assertEquals(2.0, c.lambda(), 0, "no change during the warm-up");
        c.observe(6, 40);                                   // (40 − 10)/10 = 3 → clipped to 1
        assertEquals(2.0 * Math.exp(0.02), c.lambda(), 1e-12);
        c.observe(7, 5);                                    // (5 − 10)/10 = −0.5
        assertEquals(2.0 * Math.exp(0.02) * Math.exp(-0.01), c.lambda(), 1e-12);
        double before = c.lambda();
        for (long s = 8; s <= 80; s++) {
            c.observe(s, 10);                               // on target: no change
        }
        assertEquals(before, c.lambda(), 1e-12);
        c.observe(81, 1000);
        assertEquals(before, c.lambda(), 0, "frozen after 80% of the run");
        // the EMA: with l0_ctrl_ema = 0.9 the first observation starts it, later ones move it by 10%
        TrainConfig ema = cfg.with("l0_ctrl_ema", 0.9);
        SparsityController e = new SparsityController(ema, new Schedules(ema, 100));
        e.observe(1, 20);
        e.observe(2, 10);
        assertEquals(19.0, e.l0Ema(), 1e-12);
        // without a target λ never moves
        SparsityController none = new SparsityController(TrainConfig.defaults(ArchKind.RELU),
                new Schedules(TrainConfig.defaults(ArchKind.RELU), 100));
        none.observe(50, 1000);
        assertEquals(5.0, none.lambda());
    }

    @Test
    void deadLatentsAreThoseSilentForAWindow() {
        try (CpuEngine e = new CpuEngine(1, false); Tensor fires = e.allocI32(1, 4); Tensor mask = e.allocI32(1, 4)) {
            DeadLatentTracker t = new DeadLatentTracker(4, 10);
            e.upload(fires, new int[]{1, 0, 0, 3});
            t.update(e, fires, 4);                          // since fired: 0, 4, 4, 0
            assertEquals(0, t.deadCount());
            e.upload(fires, new int[]{0, 0, 2, 0});
            t.update(e, fires, 4);                          // 4, 8, 0, 4
            e.upload(fires, new int[]{0, 0, 0, 1});
            t.update(e, fires, 4);                          // 8, 12, 4, 0
            assertEquals(1, t.deadCount());
            assertTrue(t.isDead(1));
            t.uploadDeadMask(e, mask);
            int[] m = new int[4];
            e.download(mask, m);
            assertEquals(0, m[0]);
            assertEquals(1, m[1]);
            Map<String, Object> state = new HashMap<>();
            t.putState(state);
            DeadLatentTracker back = new DeadLatentTracker(4, 10);
            back.restoreState(state);
            assertEquals(0.25, back.deadFraction());
        }
    }
}
