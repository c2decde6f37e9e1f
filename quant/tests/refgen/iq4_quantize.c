/* Quantizes f32 rows to IQ4_NL or IQ4_XS with llama.cpp's own ggml-quants.c, without an
 * importance matrix (the path llama-quantize takes without --imatrix).
 *
 * Built by iq4_quantize.py against ggml-quants.c alone; the few ggml symbols that file
 * references but these two quantizers never reach are stubbed below.
 *
 * usage: iq4_quantize nl|xs IN.f32 N_PER_ROW OUT.bin
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml.h"
#include "ggml-quants.h"

void ggml_abort(const char * file, int line, const char * fmt, ...) {
    (void) fmt;
    fprintf(stderr, "ggml_abort at %s:%d\n", file, line);
    abort();
}
size_t ggml_row_size(enum ggml_type type, int64_t ne) { (void) type; (void) ne; abort(); }
size_t ggml_type_size(enum ggml_type type) { (void) type; abort(); }
const char * ggml_type_name(enum ggml_type type) { (void) type; return "?"; }

int main(int argc, char ** argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s nl|xs IN.f32 N_PER_ROW OUT.bin\n", argv[0]);
        return 2;
    }
    const int xs = strcmp(argv[1], "xs") == 0;
    const int64_t n_per_row = atoll(argv[3]);
    FILE * f = fopen(argv[2], "rb");
    if (!f) { perror(argv[2]); return 1; }
    fseek(f, 0, SEEK_END);
    const long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    float * x = malloc(bytes);
    if (fread(x, 1, bytes, f) != (size_t) bytes) { perror("read"); return 1; }
    fclose(f);

    const int64_t n = bytes / 4;
    const int64_t nrow = n / n_per_row;
    const size_t out_bytes = xs ? n / 256 * 136 : n / 32 * 18;
    void * q = calloc(out_bytes, 1);
    const size_t written = xs ? quantize_iq4_xs(x, q, nrow, n_per_row, NULL)
                              : quantize_iq4_nl(x, q, nrow, n_per_row, NULL);
    if (written != out_bytes) { fprintf(stderr, "wrote %zu, expected %zu\n", written, out_bytes); return 1; }

    FILE * o = fopen(argv[4], "wb");
    fwrite(q, 1, out_bytes, o);
    fclose(o);
    return 0;
}
