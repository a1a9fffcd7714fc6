/*
 * error.h -- error codes and the propagation macros used by every module.
 *
 * Every public function that can fail returns an int status: ISING_OK (0) or
 * one of the codes below.  The first failure records a one-line message
 * (file:line of the check, plus a human text) with ising_err_set(); callers
 * propagate the code upwards with ISING_CALL, which adds nothing to the
 * message, so the user sees the text of the place that knew what was wrong.
 * User mistakes (bad deck, bad command line, existing output) use
 * ISING_ERR_INPUT and a message that names the file, line or key and what is
 * allowed; `main` turns the code into the exit status (README: exit codes).
 */
#ifndef ISING_ERROR_H
#define ISING_ERROR_H

#include <stddef.h>

enum {
  ISING_OK = 0,
  ISING_ERR_INTERNAL = 1, /* a bug or an impossible state */
  ISING_ERR_INPUT = 2,    /* bad deck, bad option, existing output: user's to fix */
  ISING_STOPPED = 3,      /* not an error: stopped at a checkpoint with work left */
  ISING_ERR_IO = 4,       /* file system failure */
  ISING_ERR_MPI = 5,      /* an MPI call failed */
  ISING_ERR_HDF5 = 6,     /* an HDF5 call failed */
  ISING_ERR_MEM = 7,      /* out of memory */
  ISING_ERR_FFTW = 8      /* an FFTW call failed */
};

/* Record the first error message (later ones are ignored until
 * ising_err_clear) and return `code`.  `fmt` is printf-like. */
int ising_err_set(int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The recorded message ("" when none). */
const char *ising_err_message(void);
/* Forget the recorded message (tests, and after a handled error). */
void ising_err_clear(void);
/* Mark the recorded error as held by every rank of the run alike (an
 * agreement over the world reached it: ising_h5_agree), so that one rank
 * reports it and no abort is needed; ising_err_clear unmarks it. */
void ising_err_set_agreed(void);
int ising_err_agreed(void);
/* Human name of a code ("bad input", "MPI error", ...). */
const char *ising_err_name(int code);

/* Fail with a formatted message. */
#define ISING_ERR(code, ...) ising_err_set((code), __FILE__, __LINE__, __VA_ARGS__)

/* Propagate a non-zero status. */
#define ISING_CALL(expr)                                                       \
  do {                                                                         \
    int ising_call_rc_ = (expr);                                               \
    if (ising_call_rc_ != ISING_OK) return ising_call_rc_;                     \
  } while (0)

/* Check a condition; on failure record the message and return the code. */
#define ISING_CHECK(cond, code, ...)                                           \
  do {                                                                         \
    if (!(cond)) return ising_err_set((code), __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

#endif
