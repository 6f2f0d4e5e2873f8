/* Keyword and number scans of listing texts for airbnb_price.core.text_features, one pass of
 * C over a column's texts instead of one regular-expression scan per keyword.
 *
 * The patterns stay the regular expressions of text_features.py: it translates those of a
 * simple form (literals, a "no word character before" lookbehind, a word boundary after; a
 * number, spaces, an optional dash, a literal) into the tables these functions read, and
 * tests/core/test_features.py holds both equal. Python's `re` reads \w, \s and \d as Unicode
 * classes; these functions decide only what ASCII decides, and mark a text whose answer
 * depends on a non-ASCII character "undecided" (the caller asks `re` for those texts).
 *
 * Texts come UTF-8 encoded, joined by NUL bytes (`n_texts` of them). Plain C99 with no libc
 * call at all, so it loads on every Lambda runtime (see _trees.c).
 */
#include <stdint.h>

static inline int is_word(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_';
}

/* Python's str.isspace() on ASCII: \t \n \v \f \r, the separators 0x1c-0x1f and space. */
static inline int is_space(uint8_t c) {
    return c == ' ' || (c >= 9 && c <= 13) || (c >= 28 && c <= 31);
}

/* -1: the character before/after is non-ASCII (only `re` can tell if it is a word
 * character); else whether it is a word character (a text's ends are not). */
static inline int word_at(const uint8_t *text, int64_t at, int64_t start, int64_t end) {
    if (at < start || at >= end) return 0;
    if (text[at] >= 0x80) return -1;
    return is_word(text[at]);
}

static inline int same(const uint8_t *a, const uint8_t *b, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) return 0;
    }
    return 1;
}

enum { NO_WORD_BEFORE = 1, BOUNDARY_AFTER = 2 };

/* Whether literal `w` (words[starts[w]:starts[w + 1]], its rules) stands at `at` of the text
 * [start, end): 1 yes, 0 no, -1 it depends on a non-ASCII neighbour. */
static int literal_at(const uint8_t *text, int64_t at, int64_t start, int64_t end,
                      const uint8_t *words, const int64_t *starts, const uint8_t *rules,
                      int32_t w) {
    const int64_t n = starts[w + 1] - starts[w];
    if (at + n > end || !same(text + at, words + starts[w], n)) return 0;
    if (rules[w] & NO_WORD_BEFORE) {
        const int before = word_at(text, at - 1, start, end);
        if (before) return before > 0 ? 0 : -1; /* after a word character, or unknown */
    }
    if (rules[w] & BOUNDARY_AFTER) {
        const int left = word_at(text, at + n - 1, start, end);
        const int right = word_at(text, at + n, start, end);
        if (left < 0 || right < 0) return -1;
        if (left == right) return 0;
    }
    return 1;
}

/* flags[keys[w] * n_texts + t] = 1 for each literal w found in text t (by_first[c] ..
 * by_first[c + 1] index `order`, the literals starting with byte c; bit (c << 8 | d) of
 * `pairs` is set when a literal starts with bytes c, d, or is c alone, so that most
 * positions are passed over with one bit test); undecided[t] = 1 where a found literal's
 * rule hangs on a non-ASCII neighbour. No text holds a NUL byte itself (the caller checks). */
void text_keywords(const uint8_t *text, int64_t size, int64_t n_texts, const uint8_t *words,
                   const int64_t *starts, const int32_t *keys, const uint8_t *rules,
                   const int32_t *by_first, const int32_t *order, const uint8_t *pairs,
                   double *flags, uint8_t *undecided) {
    int64_t start = 0;
    for (int64_t t = 0; t < n_texts; ++t) {
        int64_t end = start;
        while (end < size && text[end] != 0) ++end;
        for (int64_t at = start; at < end; ++at) {
            const uint8_t c = text[at];
            const int32_t pair = c << 8 | (at + 1 < end ? text[at + 1] : 0);
            if (!(pairs[pair >> 3] >> (pair & 7) & 1)) continue;
            for (int32_t k = by_first[c]; k < by_first[c + 1]; ++k) {
                const int32_t w = order[k];
                const int found = literal_at(text, at, start, end, words, starts, rules, w);
                if (found > 0) flags[(int64_t)keys[w] * n_texts + t] = 1.0;
                else if (found < 0) undecided[t] = 1;
            }
        }
        start = end + 1;
    }
}

/* For each text, where its first number stands that is followed by optional spaces, an
 * optional dash and spaces (when `dash`), then one of the literals (words, starts, rules as
 * above): found[2t], found[2t + 1] = its digits' [start, end) in bytes from the text's start,
 * -1 when none. A text holding a non-ASCII byte is left undecided (\d and \s match non-ASCII
 * digits and spaces). */
void text_numbers(const uint8_t *text, int64_t size, int64_t n_texts, int32_t dash,
                  const uint8_t *words, const int64_t *starts, const uint8_t *rules,
                  int32_t n_words, int64_t *found, uint8_t *undecided) {
    int64_t start = 0;
    for (int64_t t = 0; t < n_texts; ++t) {
        int64_t end = start;
        int ascii = 1;
        while (end < size && text[end] != 0) {
            ascii &= text[end] < 0x80;
            ++end;
        }
        found[2 * t] = found[2 * t + 1] = -1;
        if (!ascii) {
            undecided[t] = 1;
            start = end + 1;
            continue;
        }
        for (int64_t at = start; at < end; ++at) {
            if (text[at] < '0' || text[at] > '9') continue;
            int64_t digits = at;
            while (digits < end && text[digits] >= '0' && text[digits] <= '9') ++digits;
            int64_t next = digits;
            while (next < end && is_space(text[next])) ++next;
            if (dash && next < end && text[next] == '-') {
                ++next;
                while (next < end && is_space(text[next])) ++next;
            }
            int matched = 0;
            for (int32_t w = 0; w < n_words && !matched; ++w) {
                matched = literal_at(text, next, start, end, words, starts, rules, w) > 0;
            }
            if (matched) {
                found[2 * t] = at - start;
                found[2 * t + 1] = digits - start;
                break;
            }
            at = digits; /* the run's later digits see the same suffix */
        }
        start = end + 1;
    }
}
