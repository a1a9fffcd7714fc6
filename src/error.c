/*
 * error.c -- the single recorded error message behind error.h.
 *
 * One message per process is enough: the first failure is the cause, the
 * callers above it only propagate the code.  The buffer is not a global
 * communicator or rank, only text; it is thread-local so that a future
 * threaded kernel cannot tear it.
 */
#include "ising/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_msg[1024];
static _Thread_local int err_set;
static _Thread_local int err_agreed;

int ising_err_set(int code, const char *file, int line, const char *fmt, ...) {
  if (err_set) return code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err_msg, sizeof err_msg, fmt, ap);
  va_end(ap);
  err_set = 1;
  (void)file;
  (void)line;
#ifndef NDEBUG
  /* In debug builds keep the origin of the message; users of optimised
   * builds see only the text, which names their file and key. */
  size_t n = strlen(err_msg);
  if (code != ISING_ERR_INPUT && n + 8 < sizeof err_msg)
    snprintf(err_msg + n, sizeof err_msg - n, " [%s:%d]", file, line);
#endif
  return code;
}

const char *ising_err_message(void) { return err_set ? err_msg : ""; }

void ising_err_set_agreed(void) { err_agreed = err_set; }

int ising_err_agreed(void) { return err_agreed; }

void ising_err_clear(void) {
  err_set = 0;
  err_agreed = 0;
  err_msg[0] = '\0';
}

const char *ising_err_name(int code) {
  switch (code) {
  case ISING_OK: return "ok";
  case ISING_ERR_INTERNAL: return "internal error";
  case ISING_ERR_INPUT: return "bad input";
  case ISING_STOPPED: return "stopped, resumable";
  case ISING_ERR_IO: return "I/O error";
  case ISING_ERR_MPI: return "MPI error";
  case ISING_ERR_HDF5: return "HDF5 error";
  case ISING_ERR_MEM: return "out of memory";
  case ISING_ERR_FFTW: return "FFTW error";
  default: return "unknown error";
  }
}
