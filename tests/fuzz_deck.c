/*
 * fuzz_deck.c -- libFuzzer target for the deck parser (src/config.c).
 *
 * Each input is parsed as a deck, then again with one --set override made
 * from its first line, less a leading comment marker and "--set": a first
 * line "; lattice.L=32" is a comment to the deck and a real override (a bare
 * "lattice.L=32" would be a key outside any section, so the deck would fail
 * before any override is read and the override path would never be fuzzed).
 * Besides the sanitizers (memory errors, leaks, UB), the target checks the
 * promises of config.h and aborts when one breaks: the result is OK or
 * ISING_ERR_INPUT (never an internal error, which would mean the reader's
 * mirror of inih's line rules is wrong), a failure leaves the config freed
 * and one non-empty line that names the deck or the override, and a success
 * satisfies every documented constraint (J, H and every temperature within
 * the physics ranges of config.h; for tempering: temperatures finite, > 0
 * and strictly increasing; a generated ladder has count values and ends
 * exactly at T_min and T_max; the replica limit; what feedback needs).
 * Seeds: the decks in inputs/ and tests/decks/ (tests/run_fuzz.sh).
 */
#include "ising/config.h"
#include "ising/error.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const deck_keys[][2] = {
    {"lattice", "dim"},         {"lattice", "L"},          {"model", "J"},
    {"model", "H"},             {"model", "T"},            {"montecarlo", "algorithm"},
    {"montecarlo", "start"},    {"montecarlo", "kernel"},  {"montecarlo", "seed"},
    {"montecarlo", "thermalization"}, {"montecarlo", "sweeps"}, {"measurement", "interval"},
    {"output", "file"},         {"output", "progress"},    {"model", "nope"},
    {"montecarlo", "copies"},   {"tempering", "ladder"},   {"tempering", "T_min"},
    {"tempering", "T_max"},     {"tempering", "count"},    {"tempering", "interval"},
    {"tempering", "adapt"},     {"tempering", "adapt_rounds"}, {"parallel", "ranks_per_replica"},
    {"tempering", "T"},         {"montecarlo", "rng"},
};

static void require(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_deck: broken promise: %s (message: %s)\n", what, ising_err_message());
    abort();
  }
}

static void check(int rc, ising_config *cfg, int with_set) {
  if (rc == ISING_OK) {
    require(cfg->dim == 2 || cfg->dim == 3, "dim");
    for (int k = 0; k < cfg->dim; k++)
      require(cfg->L[k] >= 2 && cfg->L[k] <= 1048576 && cfg->L[k] % 2 == 0, "L");
    require(ising_config_sites(cfg) <= ((int64_t)1 << 40), "sites");
    require(isfinite(cfg->J) && isfinite(cfg->H), "reals");
    require(fabs(cfg->J) <= ISING_ENERGY_MAX && fabs(cfg->H) <= ISING_ENERGY_MAX, "J, H range");
    for (int i = 0; i < cfg->n_temps; i++) {
      char why[512];
      require(ising_config_check_scales(cfg->dim, cfg->J, cfg->H, cfg->temps[i], why,
                                        sizeof why) == ISING_OK,
              "every temperature within the physics ranges");
    }
    require(cfg->n_temps >= 1 && cfg->n_temps <= ISING_MAX_TEMPS, "n_temps");
    for (int i = 0; i < cfg->n_temps; i++)
      require(isfinite(cfg->temps[i]) && cfg->temps[i] > 0 &&
                  (i == 0 || cfg->temps[i] > cfg->temps[i - 1]),
              "temperatures finite, > 0, strictly increasing");
    require(cfg->copies >= 1 && cfg->copies <= 64, "copies");
    require((int64_t)cfg->n_temps * cfg->copies <= ISING_MAX_REPLICAS, "replicas");
    if (cfg->ladder == ISING_LADDER_LIST) {
      require(cfg->T_min == 0 && cfg->T_max == 0 && cfg->count == 0, "list ladder: no generator");
    } else {
      require(cfg->ladder == ISING_LADDER_LINEAR || cfg->ladder == ISING_LADDER_GEOMETRIC,
              "ladder kind");
      require(cfg->count >= 2 && cfg->n_temps == cfg->count, "generated ladder: count");
      require(cfg->temps[0] == cfg->T_min && cfg->temps[cfg->n_temps - 1] == cfg->T_max,
              "generated ladder: exact ends");
    }
    require(cfg->exchange_interval >= 1, "exchange interval");
    require(cfg->adapt_rounds >= 1 && cfg->adapt_rounds <= 30, "adapt_rounds");
    require(cfg->adapt == ISING_ADAPT_NONE || cfg->adapt == ISING_ADAPT_FEEDBACK, "adapt kind");
    if (cfg->adapt == ISING_ADAPT_FEEDBACK) {
      int64_t per = 10 * (((int64_t)1 << cfg->adapt_rounds) - 1);
      require(cfg->n_temps >= 3, "feedback: >= 3 temperatures");
      require(cfg->exchange_interval <= cfg->thermalization / per,
              "feedback: thermalization >= 10 interval (2^adapt_rounds - 1)");
    }
    require(cfg->ranks_per_replica >= 0, "ranks_per_replica");
    require(cfg->thermalization >= 0 && cfg->sweeps >= 1, "counts");
    require(cfg->interval >= 1 && cfg->interval <= cfg->sweeps, "interval");
    require(cfg->file[0] != '\0' && isfinite(cfg->progress) && cfg->progress >= 0, "output");
    require(cfg->deck_text != NULL && cfg->entries != NULL, "provenance");
    char buf[512], tiny[5];
    for (size_t i = 0; i < sizeof deck_keys / sizeof *deck_keys; i++) {
      ising_config_where(cfg, deck_keys[i][0], deck_keys[i][1], buf, sizeof buf);
      require(buf[0] != '\0' && !strpbrk(buf, "\r\n"), "where() is one line");
      ising_config_where(cfg, deck_keys[i][0], deck_keys[i][1], tiny, sizeof tiny);
    }
  } else {
    const char *msg = ising_err_message();
    require(rc == ISING_ERR_INPUT, "only input errors");
    require(msg[0] != '\0' && !strpbrk(msg, "\r\n"), "message is one line");
    require(strncmp(msg, "fuzz.ini:", 9) == 0 || (with_set && strncmp(msg, "--set ", 6) == 0),
            "message names the deck or the override");
    require(cfg->deck_text == NULL && cfg->entries == NULL, "freed after failure");
  }
  ising_config_free(cfg);
  ising_config_free(cfg);
  ising_err_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';

  ising_config cfg;
  ising_err_clear();
  check(ising_config_parse_string(buf, "fuzz.ini", 0, NULL, &cfg), &cfg, 0);

  const char *p = buf;
  while (*p == ' ' || *p == '\t') p++;
  if (*p == ';' || *p == '#') p++;
  while (*p == ' ' || *p == '\t') p++;
  if (strncmp(p, "--set", 5) == 0) p += 5;
  while (*p == ' ' || *p == '\t') p++;
  size_t n = strcspn(p, "\n");
  char *line = malloc(n + 1);
  if (line) {
    memcpy(line, p, n);
    line[n] = '\0';
    char *set[1] = {line};
    check(ising_config_parse_string(buf, "fuzz.ini", 1, set, &cfg), &cfg, 1);
    free(line);
  }
  free(buf);
  return 0;
}
