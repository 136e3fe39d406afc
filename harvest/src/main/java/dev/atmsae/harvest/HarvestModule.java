package dev.atmsae.harvest;
/** Placeholder so the module compiles until the harvest pipeline lands. */
final class HarvestModule { private HarvestModule() {} }
