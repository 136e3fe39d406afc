package dev.atmsae.engine.cuda;

/**
 * Every CUDA kernel the engine launches, by its {@code extern "C"} name in {@code cuda/*.cu}. One list so that a
 * test can check it against the sources (no GPU needed) and the module can resolve every function once at load.
 */
public enum Kernel {
    // encode.cu
    CENTER_ROWS("center_rows"),
    BIAS_ADD_ROWS("bias_add_rows"),
    BIAS_RELU_ROWS("bias_relu_rows"),
    BIAS_JUMPRELU_ROWS("bias_jumprelu_rows"),
    RELU_FORWARD("relu_forward"),
    JUMPRELU_FORWARD("jumprelu_forward"),
    TOPK_ROWS("topk_rows"),
    BATCHTOPK_INIT("batchtopk_init"),
    BATCHTOPK_HISTOGRAM("batchtopk_histogram"),
    BATCHTOPK_PICK_DIGIT("batchtopk_pick_digit"),
    BATCHTOPK_ROW_COUNTS("batchtopk_row_counts"),
    BATCHTOPK_ROW_OFFSETS("batchtopk_row_offsets"),
    BATCHTOPK_COMPACT("batchtopk_compact"),
    // decode.cu
    SPARSE_DECODE("sparse_decode"),
    SPARSE_DECODE_GRAD_VAL("sparse_decode_grad_val"),
    SPARSE_ZERO_TAIL("sparse_zero_tail"),
    SPARSE_DECODE_GRAD_WDEC("sparse_decode_grad_wdec"),
    SPARSE_ENCODER_BACKWARD("sparse_encoder_backward"),
    SPARSE_RELU_MASK("sparse_relu_mask"),
    RESIDUAL("residual"),
    LATENT_COUNT("latent_count"),
    LATENT_OFFSETS("latent_offsets"),
    LATENT_FILL("latent_fill"),
    LATENT_SORT_BUCKETS("latent_sort_buckets"),
    LATENT_GATHER_ROWS("latent_gather_rows"),
    // atm_stats.cu, mask.cu
    ATM_STATS("atm_stats"),
    ATM_MASK("atm_mask"),
    // atm_variants.cu
    SCALE_COLUMNS("scale_columns"),
    ATM_MASK_SPARSE("atm_mask_sparse"),
    // optim.cu
    ADAM_STEP("adam_step"),
    REMOVE_PARALLEL_ROWS("remove_parallel_rows"),
    NORMALIZE_ROWS("normalize_rows"),
    ROW_SUM_SQUARES("row_sum_squares"),
    // reduce.cu
    COL_SUM("col_sum"),
    SUM_SQUARES_PARTIAL("sum_squares_partial"),
    COUNT_POSITIVE_PARTIAL("count_positive_partial"),
    COUNT_FIRES("count_fires"),
    COUNT_FIRES_SPARSE("count_fires_sparse"),
    AXPY("axpy"),
    SCALE("scale"),
    FILL_F32("fill_f32"),
    RELU_BACKWARD("relu_backward"),
    JUMPRELU_BACKWARD("jumprelu_backward"),
    // matryoshka.cu
    SPLIT_ROWS_AT_GROUPS("split_rows_at_groups"),
    PREFIX_RESIDUALS("prefix_residuals"),
    WEIGHTED_SUFFIX_SUM("weighted_suffix_sum");

    private final String symbol;

    Kernel(String symbol) {
        this.symbol = symbol;
    }

    /** The unmangled function name in the fatbin. */
    public String symbol() {
        return symbol;
    }
}
