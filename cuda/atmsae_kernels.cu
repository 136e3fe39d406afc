// The single translation unit native-build/build.sh compiles into atmsae.fatbin: one include per kernel family.
// Every kernel is extern "C" so the Java side finds it by its plain name (engine/cuda/Kernel.java lists them all).
#include "encode.cu"
#include "decode.cu"
#include "atm_stats.cu"
#include "mask.cu"
#include "atm_variants.cu"
#include "optim.cu"
#include "reduce.cu"
#include "matryoshka.cu"
