/* Tree-ensemble evaluation and TreeSHAP for the compiled pricing engine.
 *
 * One generic evaluator over flat node tables (airbnb_price.serve.trees builds them from
 * LightGBM, scikit-learn forests, boosting and single trees), loaded with ctypes: a model is
 * data (numpy arrays in the artifact), not code, so nothing is compiled per model, a random
 * forest of deep trees costs no compile time, and the artifact is the same on x86_64 and arm64.
 * Plain C99 with no libc call but malloc, free and memcpy: the library needs GLIBC_2.14 at
 * most and loads on every Lambda runtime (Amazon Linux 2: glibc 2.26; tests/serve/test_engine.py
 * reads its symbol versions).
 *
 * Decision rule per split node (LightGBM's, which scikit-learn's is a case of):
 *   NaN with missing type NONE is read as 0.0; NaN with type NAN, and |x| <= 1e-35f with type
 *   ZERO, go to the default child; otherwise x <= threshold goes left.
 * Siblings are adjacent: right == left + 1. A leaf has feature -1 and holds its value
 * (already scaled: learning rate, 1/n_trees) in `threshold`. TreeSHAP is Lundberg et al.'s
 * path-dependent algorithm (Algorithm 2 of "Consistent Individualized Feature Attribution
 * for Tree Ensembles"), as in shap's tree_shap.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double threshold; /* split threshold, or the leaf's value */
    int32_t feature;  /* -1 for a leaf */
    int32_t left;
    int32_t right;
    uint8_t flags;    /* bit 0: default left; bits 1-2: missing type */
} Node;

enum { MISSING_NONE = 0, MISSING_ZERO = 1, MISSING_NAN = 2 };
#define ZERO_THRESHOLD ((double)1e-35f)

static inline int32_t missing_child(const Node *node, double x) {
    int missing = (node->flags >> 1) & 3;
    if (isnan(x)) {
        if (missing != MISSING_NONE) return (node->flags & 1) ? node->left : node->right;
        x = 0.0;
    }
    if (missing == MISSING_ZERO && x >= -ZERO_THRESHOLD && x <= ZERO_THRESHOLD) {
        return (node->flags & 1) ? node->left : node->right;
    }
    return x <= node->threshold ? node->left : node->right;
}

/* The child a value goes to. Siblings are adjacent (right == left + 1, laid out so by
 * airbnb_price.train.estimators), so the common case (a number, no zero rule) is arithmetic,
 * not a branch the CPU mispredicts half the time. */
static inline int32_t child(const Node *node, double x) {
    if (__builtin_expect(isnan(x) || (node->flags & 6) == (MISSING_ZERO << 1), 0)) {
        return missing_child(node, x);
    }
    return node->left + (x > node->threshold);
}

#define BLOCK 256

/* The generic walk of one row down one tree: every decision rule, one level at a time. */
static inline double walk(const Node *nodes, int32_t n, const double *row) {
    while (nodes[n].feature >= 0) {
        n = child(&nodes[n], row[nodes[n].feature]);
    }
    return nodes[n].threshold;
}

/* out[i] += sum over trees of the leaf row i reaches. Rows go in blocks so that one tree's
 * nodes stay in cache while the block's rows walk it. (Walking 8 rows in lockstep with the
 * generic rule measured half as fast: its extra branches cost more than the overlapped
 * loads gained; trees_predict_steps below removes the branches instead.) */
void trees_predict(const double *X, int64_t n_rows, int64_t n_cols, const Node *nodes,
                   const int32_t *roots, int32_t n_trees, double *out) {
    for (int64_t start = 0; start < n_rows; start += BLOCK) {
        int64_t end = start + BLOCK < n_rows ? start + BLOCK : n_rows;
        for (int32_t t = 0; t < n_trees; ++t) {
            for (int64_t i = start; i < end; ++i) {
                out[i] += walk(nodes, roots[t], X + i * n_cols);
            }
        }
    }
}

/* The branch-free form of a node over binned rows (airbnb_price.serve.trees builds both when
 * a model loads). Every split threshold of a feature is one of its sorted `cuts`; a row's
 * value x becomes its bin, the number of cuts below it, and
 *     x > cuts[k]  <=>  bin(x) > k
 * exactly, so a node compares two small integers: `next + (bin > cut)`. A step is 8 bytes and
 * a binned row 2 bytes per feature (a double row and a 16-byte step before: twice the cache a
 * tree and a block of rows take). A leaf points at itself with cut 0xFFFF, above any bin, so
 * a row that has reached its leaf stays there, and every row of a tree takes the same number
 * of steps (the tree's depth) with no data-dependent branch. */
typedef struct {
    uint16_t offset; /* the split feature times LANES: its bins' place in a group */
    uint16_t cut;
    uint32_t next;
} Step;

/* B[i, j] = the number of cuts of feature j below X[i, j] (cuts[offsets[j]:offsets[j + 1]],
 * ascending): a branch-free binary search per value (a coordinate's bin is a coin toss to the
 * branch predictor at every halving). A NaN gets 0 and flags its row in has_nan (rows with NaN
 * take the generic walk). X[i, j] is X[i * row_step + j * column_step]: a row-major matrix or
 * a column-major one (the fused plan writes its columns whole); rows go in blocks of BLOCK so
 * that a column-major matrix's block of bins stays in cache while its columns are read. */
void trees_bin(const double *X, int64_t n_rows, int64_t n_cols, int64_t row_step,
               int64_t column_step, const double *cuts, const int64_t *offsets, uint16_t *B,
               uint8_t *has_nan) {
    for (int64_t start = 0; start < n_rows; start += BLOCK) {
        const int64_t end = start + BLOCK < n_rows ? start + BLOCK : n_rows;
        for (int64_t i = start; i < end; ++i) has_nan[i] = 0;
        for (int64_t j = 0; j < n_cols; ++j) {
            const double *first = cuts + offsets[j];
            const int64_t count = offsets[j + 1] - offsets[j];
            for (int64_t i = start; i < end; ++i) {
                const double x = X[i * row_step + j * column_step];
                const double *base = first;
                int64_t n = count;
                if (isnan(x) || n == 0) {
                    has_nan[i] |= isnan(x);
                    B[i * n_cols + j] = 0;
                    continue;
                }
                while (n > 1) { /* halve the range with a conditional move, not a branch */
                    const int64_t half = n / 2;
                    base = base[half] < x ? base + half : base;
                    n -= half;
                }
                B[i * n_cols + j] = (uint16_t)((base - first) + (*base < x));
            }
        }
    }
}

#define LANES 8
/* Levels every group descends before it checks whether all its lanes have reached a leaf:
 * nearly no group finishes sooner, and the check's branch mispredicts (measured 1.07x). */
#define PREFIX 2

/* trees_predict for rows without NaN and trees marked `plain` (no LightGBM zero-as-missing
 * node, every feature within 0xFFFE cuts and below 0xFFFF / LANES): LANES binned rows descend a
 * tree together, their loads independent, so the CPU overlaps them instead of waiting on one
 * row's chain of loads. Each group of LANES clean rows is first copied feature-major into
 * `grouped` (BLOCK * n_cols bins): lane j's bin of feature f at group[f * LANES + j], a
 * constant offset from one base pointer, so the lanes' row pointers no longer spill to the
 * stack at every level (measured 1.17x, 1.26x with PREFIX and BLOCK 256 over 128). A step holds
 * f * LANES (its `offset`), so a lane's bin is one load with no multiply, and unsigned node
 * numbers need no sign extension: 8 instructions a lane and level where there were 10; the
 * clean rows' sums stay in `acc`, in group order, until the block's last tree (1.15x together).
 * A group stops when its lanes' node numbers sum as at the level before: a lane at its leaf
 * stays, and a lane that moves goes to a higher number (a plain tree numbers every child after
 * its parent, and fewer than 2^32 / LANES nodes cannot wrap the sum), so an equal sum means
 * every lane stayed; one add a lane instead of an xor, an or and the copy they needed
 * (7 instructions a lane and level, 1.07x). A block's last group is filled up with copies of
 * its last clean row, so every clean row takes this walk; other trees and rows flagged in
 * `has_nan` take the generic walk on X (row-major: it is read only for those). Rows are taken
 * in `order` (NULL: as they come): the caller orders similar rows together, so a group's lanes
 * take paths of similar length and reach their leaves at nearly the same level (a group
 * descends until its last lane has). Same sums, in the same order of trees, as trees_predict. */
void trees_predict_steps(const double *X, const uint16_t *B, int64_t n_rows, int64_t n_cols,
                         const Node *nodes, const Step *steps, const int32_t *roots,
                         const int32_t *depths, const uint8_t *plain, int32_t n_trees,
                         const uint8_t *has_nan, const int64_t *order, int64_t *scratch,
                         uint16_t *grouped, double *out) {
    for (int64_t start = 0; start < n_rows; start += BLOCK) {
        int64_t end = start + BLOCK < n_rows ? start + BLOCK : n_rows;
        int64_t *clean = scratch, *dirty = scratch + BLOCK;
        int64_t n_clean = 0, n_dirty = 0;
        for (int64_t i = start; i < end; ++i) {
            const int64_t r = order ? order[i] : i;
            if (has_nan[r]) dirty[n_dirty++] = r; else clean[n_clean++] = r;
        }
        /* the last group filled up with copies of the last clean row, its sums unused */
        const int64_t n_grouped = (n_clean + LANES - 1) / LANES * LANES;
        for (int64_t k = 0; k < n_grouped; k += LANES) {
            uint16_t *group = grouped + k * n_cols;
            for (int j = 0; j < LANES; ++j) {
                const int64_t r = clean[k + j < n_clean ? k + j : n_clean - 1];
                const uint16_t *row = B + r * n_cols;
                for (int64_t f = 0; f < n_cols; ++f) group[f * LANES + j] = row[f];
            }
        }
        double acc[BLOCK]; /* the clean rows' sums in group order: no index per leaf */
        for (int64_t k = 0; k < n_grouped; ++k) acc[k] = k < n_clean ? out[clean[k]] : 0.0;
        for (int32_t t = 0; t < n_trees; ++t) {
            const int32_t root = roots[t];
            if (!plain[t]) {
                for (int64_t k = 0; k < n_clean; ++k) {
                    acc[k] += walk(nodes, root, X + clean[k] * n_cols);
                }
                for (int64_t m = 0; m < n_dirty; ++m) {
                    out[dirty[m]] += walk(nodes, root, X + dirty[m] * n_cols);
                }
                continue;
            }
            const int32_t depth = depths[t];
            for (int64_t k = 0; k < n_grouped; k += LANES) {
                const uint16_t *group = grouped + k * n_cols;
                uint32_t at[LANES];
                for (int j = 0; j < LANES; ++j) at[j] = (uint32_t)root;
                int32_t d = 0;
                for (; d < depth && d < PREFIX; ++d) {
                    for (int j = 0; j < LANES; ++j) {
                        const Step s = steps[at[j]];
                        at[j] = s.next + (group[s.offset + j] > s.cut);
                    }
                }
                uint32_t before = 0;
                for (int j = 0; j < LANES; ++j) before += at[j];
                for (; d < depth; ++d) {
                    uint32_t sum = 0;
                    for (int j = 0; j < LANES; ++j) {
                        const Step s = steps[at[j]];
                        at[j] = s.next + (group[s.offset + j] > s.cut);
                        sum += at[j];
                    }
                    if (sum == before) break; /* every lane is at its leaf before the deepest one */
                    before = sum;
                }
                for (int j = 0; j < LANES; ++j) acc[k + j] += nodes[at[j]].threshold;
            }
            for (int64_t m = 0; m < n_dirty; ++m) {
                out[dirty[m]] += walk(nodes, root, X + dirty[m] * n_cols);
            }
        }
        for (int64_t k = 0; k < n_clean; ++k) out[clean[k]] = acc[k];
    }
}

typedef struct {
    int32_t feature;
    double zero_fraction;
    double one_fraction;
    double weight;
} PathElement;

static void extend_path(PathElement *path, int depth, double zero_fraction,
                        double one_fraction, int32_t feature) {
    path[depth].feature = feature;
    path[depth].zero_fraction = zero_fraction;
    path[depth].one_fraction = one_fraction;
    path[depth].weight = depth == 0 ? 1.0 : 0.0;
    for (int i = depth - 1; i >= 0; --i) {
        path[i + 1].weight += one_fraction * path[i].weight * (i + 1) / (double)(depth + 1);
        path[i].weight = zero_fraction * path[i].weight * (depth - i) / (double)(depth + 1);
    }
}

static void unwind_path(PathElement *path, int depth, int index) {
    const double one_fraction = path[index].one_fraction;
    const double zero_fraction = path[index].zero_fraction;
    double next_one_portion = path[depth].weight;
    for (int i = depth - 1; i >= 0; --i) {
        if (one_fraction != 0) {
            const double tmp = path[i].weight;
            path[i].weight = next_one_portion * (depth + 1) / ((double)(i + 1) * one_fraction);
            next_one_portion = tmp - path[i].weight * zero_fraction * (depth - i)
                                         / (double)(depth + 1);
        } else {
            path[i].weight = path[i].weight * (depth + 1) / (zero_fraction * (depth - i));
        }
    }
    for (int i = index; i < depth; ++i) {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

static double unwound_path_sum(const PathElement *path, int depth, int index) {
    const double one_fraction = path[index].one_fraction;
    const double zero_fraction = path[index].zero_fraction;
    double next_one_portion = path[depth].weight;
    double total = 0;
    for (int i = depth - 1; i >= 0; --i) {
        if (one_fraction != 0) {
            const double tmp = next_one_portion * (depth + 1) / ((double)(i + 1) * one_fraction);
            total += tmp;
            next_one_portion = path[i].weight - tmp * zero_fraction * ((depth - i)
                                                                     / (double)(depth + 1));
        } else if (zero_fraction != 0) {
            total += (path[i].weight / zero_fraction) / ((depth - i) / (double)(depth + 1));
        }
    }
    return total;
}

static void shap_recurse(const Node *nodes, const double *cover, int32_t n, const double *row,
                         double *phi, PathElement *parent_path, int depth,
                         double parent_zero_fraction, double parent_one_fraction,
                         int32_t parent_feature) {
    PathElement *path = parent_path + depth + 1;
    memcpy(path, parent_path, (size_t)(depth + 1) * sizeof(PathElement));
    extend_path(path, depth, parent_zero_fraction, parent_one_fraction, parent_feature);
    const Node *node = &nodes[n];
    if (node->feature < 0) {
        for (int i = 1; i <= depth; ++i) {
            const double w = unwound_path_sum(path, depth, i);
            phi[path[i].feature] += w * (path[i].one_fraction - path[i].zero_fraction)
                                    * node->threshold;
        }
        return;
    }
    const int32_t hot = child(node, row[node->feature]);
    const int32_t cold = hot == node->left ? node->right : node->left;
    const double hot_zero_fraction = cover[hot] / cover[n];
    const double cold_zero_fraction = cover[cold] / cover[n];
    double incoming_zero_fraction = 1, incoming_one_fraction = 1;
    int index = 0;
    for (; index <= depth; ++index) {
        if (path[index].feature == node->feature) break;
    }
    if (index != depth + 1) {
        incoming_zero_fraction = path[index].zero_fraction;
        incoming_one_fraction = path[index].one_fraction;
        unwind_path(path, depth, index);
        depth -= 1;
    }
    shap_recurse(nodes, cover, hot, row, phi, path, depth + 1,
                 hot_zero_fraction * incoming_zero_fraction, incoming_one_fraction,
                 node->feature);
    shap_recurse(nodes, cover, cold, row, phi, path, depth + 1,
                 cold_zero_fraction * incoming_zero_fraction, 0, node->feature);
}

/* phi (n_rows x (n_cols + 1)) += each row's SHAP values, the expected value in the last
 * column. `max_depth` is the deepest leaf's depth (root = 0). Returns -1 when out of memory. */
int trees_shap(const double *X, int64_t n_rows, int64_t n_cols, const Node *nodes,
               const double *cover, const int32_t *roots, int32_t n_trees, int32_t max_depth,
               double *phi) {
    const int64_t size = (int64_t)(max_depth + 2) * (max_depth + 3) / 2;
    PathElement *path = malloc((size_t)size * sizeof(PathElement));
    if (path == NULL) return -1;
    for (int64_t i = 0; i < n_rows; ++i) {
        const double *row = X + i * n_cols;
        double *out = phi + i * (n_cols + 1);
        for (int32_t t = 0; t < n_trees; ++t) {
            shap_recurse(nodes, cover, roots[t], row, out, path, 0, 1, 1, -1);
        }
    }
    free(path);
    return 0;
}
