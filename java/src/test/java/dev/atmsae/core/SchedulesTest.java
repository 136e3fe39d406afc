package dev.atmsae.core;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SchedulesTest {
    @Test
    void maskScheduleWithDefaultsAndTheShortRunRule() {
        TrainConfig cfg = TrainConfig.defaults(ArchKind.ATM);
        Schedules longRun = new Schedules(cfg, 10_000);
        assertEquals(0.0, longRun.maskRate(1000));
        assertEquals(1.0 / 500, longRun.maskRate(1001), 1e-15);
        assertEquals(0.5, longRun.maskRate(1250), 1e-15);
        assertEquals(1.0, longRun.maskRate(1500), 1e-15);
        assertEquals(1.0, longRun.maskRate(9000), 1e-15);
        // 1000 steps < 2·(1000 + 500): start = 40% = 400, ramp = 20% = 200
        Schedules shortRun = new Schedules(cfg, 1000);
        assertEquals(400, shortRun.maskStart());
        assertEquals(200, shortRun.maskRamp());
        assertEquals(0.0, shortRun.maskRate(400));
        assertEquals(0.5, shortRun.maskRate(500), 1e-15);
        assertEquals(1.0, shortRun.maskRate(600), 1e-15);
        // exactly at the boundary 3000 = 2·1500 the configured values hold
        assertEquals(1000, new Schedules(cfg, 3000).maskStart());
    }

    @Test
    void learningRateWarmupDecayAndSparsityWarmup() {
        TrainConfig cfg = TrainConfig.defaults(ArchKind.RELU).with(Map.of("lr", 1e-3, "lr_warmup_steps", 10));
        Schedules s = new Schedules(cfg, 1000);
        assertEquals(0.5e-3, s.lr(5), 1e-15);
        assertEquals(1e-3, s.lr(10), 1e-15);
        assertEquals(1e-3, s.lr(801), 1e-15);      // decay over the last 200 steps: (1000 − 801 + 1)/200 = 1
        assertEquals(0.5e-3, s.lr(901), 1e-15);
        assertEquals(1e-3 / 200, s.lr(1000), 1e-15);
        // λ warm-up: 5% of 1000 = 50 steps
        assertEquals(0.5, s.sparsityWarmup(25), 1e-15);
        assertEquals(1.0, s.sparsityWarmup(50), 1e-15);
        // TopK's default 1000-step warm-up is cut to 10% on a 2000-step run
        TrainConfig topk = TrainConfig.defaults(ArchKind.TOPK).with("lr", 1e-3);
        assertEquals(200, topk.effectiveLrWarmupSteps(2000));
        assertEquals(1000, topk.effectiveLrWarmupSteps(10_000));
        assertEquals(0.5e-3, new Schedules(topk, 2000).lr(100), 1e-15);
    }

    @Test
    void cosineMaskRampIsGentlerAtBothEnds() {
        TrainConfig cfg = TrainConfig.defaults(ArchKind.ATM).with("atm_mask_schedule", "cosine");
        Schedules s = new Schedules(cfg, 10_000);
        assertEquals(0.0, s.maskRate(1000));
        assertEquals(0.5, s.maskRate(1250), 1e-12);
        assertEquals(1.0, s.maskRate(1500), 1e-12);
        assertEquals(0.5 * (1 - Math.cos(Math.PI * 0.1)), s.maskRate(1050), 1e-12);
        Schedules linear = new Schedules(TrainConfig.defaults(ArchKind.ATM), 10_000);
        org.junit.jupiter.api.Assertions.assertTrue(s.maskRate(1050) < linear.maskRate(1050));
        org.junit.jupiter.api.Assertions.assertTrue(s.maskRate(1450) > linear.maskRate(1450));
    }
}
