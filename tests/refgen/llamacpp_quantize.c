/* Quantizes rows of f32 with llama.cpp's own quantizer (ggml_quantize_chunk, no importance
 * matrix: what llama-quantize does without --imatrix) and writes the raw blocks.
 *
 *   llamacpp_quantize IN.f32 N_PER_ROW TYPE_ID OUT.bin
 *
 * Built and run by tests/refgen/llamacpp_rmse.py against a llama.cpp checkout; not part of
 * edge. */
#include <stdio.h>
#include <stdlib.h>

#include "ggml.h"

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s IN.f32 N_PER_ROW TYPE_ID OUT.bin\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) { perror(argv[1]); return 1; }
    fseek(in, 0, SEEK_END);
    long bytes = ftell(in);
    fseek(in, 0, SEEK_SET);
    long n = bytes / 4;
    float *x = malloc(bytes);
    if (fread(x, 4, n, in) != (size_t)n) { fprintf(stderr, "short read\n"); return 1; }
    fclose(in);

    long n_per_row = atol(argv[2]);
    enum ggml_type type = (enum ggml_type)atoi(argv[3]);
    long nrows = n / n_per_row;
    size_t row_size = ggml_row_size(type, n_per_row);
    void *q = malloc(row_size * nrows);
    size_t written = ggml_quantize_chunk(type, x, q, 0, nrows, n_per_row, NULL);

    FILE *out = fopen(argv[4], "wb");
    if (!out || fwrite(q, 1, written, out) != written) { perror(argv[4]); return 1; }
    fclose(out);
    return 0;
}
