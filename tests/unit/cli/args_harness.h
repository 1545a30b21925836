/*
 * What every command-line test needs: parse a word list as vmm's argv and
 * keep the result and the message where the assertions read them.
 */
#ifndef TESTS_UNIT_CLI_ARGS_HARNESS_H
#define TESTS_UNIT_CLI_ARGS_HARNESS_H

#include "cli/args.h"

extern struct cli_args args;	/* the last parse's result */
extern char err[256];		/* the last parse's message */

/* Parse a NULL-terminated list of words (words[0] is the program name). */
int parse_words(const char **words);
/* Fail the test unless the last message mentions needle. */
void assert_err_contains(const char *needle);

#endif
