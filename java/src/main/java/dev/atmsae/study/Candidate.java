package dev.atmsae.study;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One configuration a study trains at every L0 target and seed of a stage.
 *
 * @param name   directory-safe name: the arch for baselines, "atm-BASE" for an ATM centre, "atm-BASE+knob=value"
 *               for a one-factor change (atm_ prefix dropped), "atm-BASE+rN" for random search draw N
 * @param role   baseline, centre, one_factor, random or selected (taken from an earlier study)
 * @param arch   architecture id
 * @param base   ATM's atm_base (null for baselines)
 * @param factor the changed keys of a one-factor configuration, joined with "+" (null otherwise)
 * @param keys   TrainConfig keys of this configuration on top of the study's common keys
 */
public record Candidate(String name, String role, String arch, String base, String factor, Map<String, Object> keys) {
    public boolean isAtm() {
        return "atm".equals(arch);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("role", role);
        m.put("arch", arch);
        m.put("base", base);
        m.put("factor", factor);
        m.put("keys", keys);
        return m;
    }

    @SuppressWarnings("unchecked")
    static Candidate fromMap(Map<String, Object> m) {
        return new Candidate((String) m.get("name"), (String) m.get("role"), (String) m.get("arch"),
                (String) m.get("base"), (String) m.get("factor"), (Map<String, Object>) m.get("keys"));
    }
}
