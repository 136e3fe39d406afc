// A stand-in for libcublas for CublasFfmTest's search tests: only that a library of this name loads is used. The
// cuBLAS contract itself is tested on a device, the emulated one included (native-build/emu/cublas.cpp).
int atmsae_cublas_stand_in(void) { return 0; }
