#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "args_harness.h"

struct cli_args args;
char err[256];

int parse_words(const char **words)
{
	int argc = 0;

	while (words[argc])
		argc++;
	memset(err, 0, sizeof(err));
	return cli_parse(argc, (char *const *)words, &args, err, sizeof(err));
}

void assert_err_contains(const char *needle)
{
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}
