// Lexical scores of a generated answer against a gold answer, as LoCoMo evaluations report
// them: token F1 (mem0's and the original's calculate_metrics) and BLEU-1 (NLTK sentence_bleu
// with weights (1, 0, 0, 0)). Definitions and worked examples: docs/design/semantic-memory.md §5.
// Pure functions of their arguments; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nemori {

/// The tokens token F1 compares: the text lower-cased (ASCII letters only), each '.', ',', '!'
/// and '?' replaced by a space, split on white space. "May 7, 2023" -> may, 7, 2023.
std::vector<std::string> f1_tokens(std::string_view text);

/// Token F1 of the two texts' token sets (f1_tokens, duplicates counted once): with
/// p = |P ∩ G| / |P| and r = |P ∩ G| / |G|, 2pr / (p + r); 0 when either set is empty or they
/// share no token. "Caroline lives in Denver" against "Denver": 0.4.
double token_f1(std::string_view prediction, std::string_view gold);

/// The tokens BLEU-1 compares, a fixed approximation of NLTK's Treebank word_tokenize: the text
/// lower-cased (ASCII), split on white space; from each chunk every leading and trailing
/// character of . , ; : ! ? " ' ( ) [ ] { } is split off as a token of its own (so "1,000" and
/// "u.s" stay whole); then a chunk ending in "n't" becomes stem + "n't", one ending in 's 're
/// 've 'll 'd 'm becomes stem + that suffix. "She didn't go to Paris." -> she, did, n't, go,
/// to, paris, ".".
std::vector<std::string> bleu_tokens(std::string_view text);

/// BLEU-1 of `hypothesis` against one `reference` (bleu_tokens of each): with c and r their
/// token counts, p1 = Σ_w min(count_h(w), count_r(w)) / c and BP = 1 when c > r, else
/// exp(1 - r / c); BLEU-1 = BP · p1, and 0 when c = 0 or no token matches (as NLTK's smoothing
/// method 1 leaves unigrams). "Boston" against "Boston, Massachusetts": e^-2 ≈ 0.1353.
double bleu1(std::string_view hypothesis, std::string_view reference);

}  // namespace nemori
