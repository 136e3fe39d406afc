package dev.atmsae.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.io.SaeWeights;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * "Only dev.atmsae.api is public": no internal type (any other dev.atmsae package) may be reachable through a public
 * or protected signature of a public API type — supertypes, fields, constructors, methods (parameters, results,
 * exceptions, generic arguments and bounds). The checker itself is tested on a deliberately leaking class.
 */
class ApiSurfaceTest {
    private static final String API = "dev.atmsae.api";

    @Test
    void noInternalTypeIsReachableThroughTheApi() throws Exception {
        List<Class<?>> types = apiTypes();
        assertTrue(types.size() >= 10, "found the API's public types: " + types);
        List<String> leaks = new ArrayList<>();
        for (Class<?> c : types) {
            leaks.addAll(leaks(c));
        }
        assertEquals(List.of(), leaks, "internal types in the public API");
    }

    @Test
    void theCheckerCatchesALeak() {
        List<String> found = leaks(Leaky.class);
        assertEquals(3, found.size(), found.toString());
        assertTrue(found.stream().allMatch(s -> s.contains("dev.atmsae.io.SaeWeights")), found.toString());
        assertEquals(List.of(), leaks(Clean.class));
    }

    /** A public class whose signatures leak an internal type three ways (test fixture). */
    public static class Leaky {
        /** Leaks through a field. */
        public SaeWeights field;

        /** Leaks through a result. */
        public SaeWeights result() {
            return null;
        }

        /** Leaks through a generic argument. */
        public void argument(List<? extends SaeWeights> weights) {
        }

        /** Private members are fine. */
        private SaeWeights hidden() {
            return null;
        }
    }

    /** A public class with only public types in its signatures (test fixture). */
    public static class Clean {
        /** Fine. */
        public Map<String, List<Sae.Latent>> latents(float[][] x) {
            return Map.of();
        }

        SaeWeights packagePrivate() {
            return null;
        }
    }

    /** The public top-level and nested types of the API package, from the compiled classes. */
    private static List<Class<?>> apiTypes() throws IOException, URISyntaxException, ClassNotFoundException {
        Path root = Path.of(Sae.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path dir = root.resolve(API.replace('.', '/'));
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).sorted().toList()) {
                String name = f.getFileName().toString();
                Class<?> c = Class.forName(API + "." + name.substring(0, name.length() - ".class".length()));
                if (isPublicApi(c)) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    private static boolean isPublicApi(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
            if (!Modifier.isPublic(k.getModifiers()) || k.isAnonymousClass() || k.isLocalClass()) {
                return false;
            }
        }
        return true;
    }

    /** Every internal type visible in {@code c}'s public or protected signatures, as "member: type". */
    static List<String> leaks(Class<?> c) {
        Set<String> out = new TreeSet<>();
        check(c.getName() + " extends", c.getGenericSuperclass(), out);
        for (Type t : c.getGenericInterfaces()) {
            check(c.getName() + " implements", t, out);
        }
        for (Field f : c.getDeclaredFields()) {
            if (visible(f.getModifiers())) {
                check(c.getName() + "." + f.getName(), f.getGenericType(), out);
            }
        }
        List<Executable> members = new ArrayList<>(List.of(c.getDeclaredMethods()));
        members.addAll(List.<Constructor<?>>of(c.getDeclaredConstructors()));
        for (Executable e : members) {
            if (!visible(e.getModifiers()) || e.isSynthetic() || (e instanceof Method m && m.isBridge())) {
                continue;
            }
            String where = c.getName() + "." + e.getName();
            if (e instanceof Method m) {
                check(where + " returns", m.getGenericReturnType(), out);
            }
            for (Type t : e.getGenericParameterTypes()) {
                check(where + " takes", t, out);
            }
            for (Type t : e.getGenericExceptionTypes()) {
                check(where + " throws", t, out);
            }
            for (TypeVariable<?> v : e.getTypeParameters()) {
                check(where + " <" + v.getName() + ">", v, out);
            }
        }
        return new ArrayList<>(out);
    }

    private static boolean visible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    private static void check(String where, Type type, Set<String> out) {
        walk(where, type, out, new HashSet<>());
    }

    private static void walk(String where, Type type, Set<String> out, Set<Type> seen) {
        if (type == null || !seen.add(type)) {
            return;
        }
        switch (type) {
            case Class<?> c -> {
                Class<?> base = c;
                while (base.isArray()) {
                    base = base.getComponentType();
                }
                String pkg = base.getPackageName();
                if (pkg.startsWith("dev.atmsae") && !pkg.equals(API)) {
                    out.add(where + ": " + base.getName());
                }
            }
            case ParameterizedType p -> {
                walk(where, p.getRawType(), out, seen);
                walk(where, p.getOwnerType(), out, seen);
                for (Type a : p.getActualTypeArguments()) {
                    walk(where, a, out, seen);
                }
            }
            case WildcardType w -> {
                for (Type b : w.getUpperBounds()) {
                    walk(where, b, out, seen);
                }
                for (Type b : w.getLowerBounds()) {
                    walk(where, b, out, seen);
                }
            }
            case TypeVariable<?> v -> {
                for (Type b : v.getBounds()) {
                    walk(where, b, out, seen);
                }
            }
            case GenericArrayType g -> walk(where, g.getGenericComponentType(), out, seen);
            default -> throw new AssertionError("unexpected type " + type);
        }
    }

    @Test
    void apiTypesAreFinalOrInterfacesOrRecords() throws Exception {
        // a host program may rely on these not being subclassed by atmsae's internals
        for (Class<?> c : apiTypes()) {
            boolean closed = c.isInterface() || c.isRecord() || c.isEnum() || Modifier.isFinal(c.getModifiers());
            assertTrue(closed, c + " is open for subclassing");
            assertFalse(c.getName().contains("$") && !Modifier.isStatic(c.getModifiers()) && !c.isRecord()
                    && !c.isInterface() && !c.isEnum(), c + " is an inner (non-static) class");
        }
    }
}
