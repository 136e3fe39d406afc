package dev.atmsae.arch;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Tensor;

/** One trained parameter with its gradient and Adam moments, all engine tensors of the same shape. */
record Param(String name, Tensor value, Tensor grad, Tensor m, Tensor v) implements AutoCloseable {
    static Param allocate(Engine engine, String name, int rows, int cols) {
        return new Param(name, engine.allocF32(rows, cols), engine.allocF32(rows, cols), engine.allocF32(rows, cols),
                engine.allocF32(rows, cols));
    }

    @Override
    public void close() {
        value.close();
        grad.close();
        m.close();
        v.close();
    }
}
