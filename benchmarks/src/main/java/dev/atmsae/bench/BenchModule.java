package dev.atmsae.bench;
/** Placeholder so the module compiles until the benchmarks land. */
final class BenchModule { private BenchModule() {} }
