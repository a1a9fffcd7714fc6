/* version.h -- program version and git commit (generated at build time). */
#ifndef ISING_VERSION_H
#define ISING_VERSION_H
extern const char *ising_version;
extern const char *ising_git_commit;
#endif
