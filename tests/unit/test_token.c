#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "token.h"

#define NOW 1700000000

static struct gq_secret secret(const char *s)
{
	struct gq_secret sec;
	char err[256];

	assert_int_equal(token_secret_from_string(s, &sec, err, sizeof err), 0);
	return sec;
}

static void sign(const char *user, enum gq_role role, int64_t expiry, char *out, size_t outlen)
{
	struct gq_secret sec = secret("0123456789abcdef-secret");
	struct gq_token t = { .role = role, .expiry = expiry };

	snprintf(t.user, sizeof t.user, "%s", user);
	assert_int_equal(token_sign(&sec, &t, out, outlen), 0);
}

static int verify(const char *tok, struct gq_token *out)
{
	struct gq_secret sec = secret("0123456789abcdef-secret");

	return token_verify(&sec, tok, NOW, out);
}

static void test_round_trip(void **state)
{
	char tok[GQ_TOKEN_MAX];
	struct gq_token t;

	sign("alice", GQ_ROLE_STUDENT, NOW + 3600, tok, sizeof tok);
	assert_null(strchr(tok, '='));
	assert_null(strchr(tok, '+'));
	assert_null(strchr(tok, '/'));
	assert_int_equal(verify(tok, &t), 0);
	assert_string_equal(t.user, "alice");
	assert_int_equal(t.role, GQ_ROLE_STUDENT);
	assert_int_equal(t.expiry, NOW + 3600);

	sign("prof.x", GQ_ROLE_INSTRUCTOR, NOW + 1, tok, sizeof tok);
	assert_int_equal(verify(tok, &t), 0);
	assert_int_equal(t.role, GQ_ROLE_INSTRUCTOR);
}

static void test_expired(void **state)
{
	struct gq_token t = { .user = "untouched" };
	char tok[GQ_TOKEN_MAX];

	sign("alice", GQ_ROLE_STUDENT, NOW, tok, sizeof tok);
	assert_int_equal(verify(tok, &t), -EKEYEXPIRED);
	sign("alice", GQ_ROLE_STUDENT, NOW - 100, tok, sizeof tok);
	assert_int_equal(verify(tok, &t), -EKEYEXPIRED);
	assert_string_equal(t.user, "untouched");
}

static void test_forged_signature(void **state)
{
	char tok[GQ_TOKEN_MAX];
	struct gq_token t;
	size_t n;

	sign("alice", GQ_ROLE_STUDENT, NOW + 3600, tok, sizeof tok);
	n = strlen(tok);
	tok[n - 5] = tok[n - 5] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(tok, &t), -EBADMSG);
}

/* The last base64 character of a 32-byte MAC carries 2 unused bits: changing them must not
 * give a second token that verifies. */
static void test_non_canonical_base64(void **state)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char tok[GQ_TOKEN_MAX];
	struct gq_token t;
	size_t n;
	int ok = 0;

	sign("alice", GQ_ROLE_STUDENT, NOW + 3600, tok, sizeof tok);
	n = strlen(tok);
	for (const char *c = alphabet; *c; c++) {
		tok[n - 1] = *c;
		if (verify(tok, &t) == 0)
			ok++;
	}
	assert_int_equal(ok, 1);
}

static void test_role_escalation(void **state)
{
	char student[GQ_TOKEN_MAX], instr[GQ_TOKEN_MAX], forged[2 * GQ_TOKEN_MAX];
	struct gq_token t;

	/* payload of an instructor token glued to the signature of a student token */
	sign("alice", GQ_ROLE_STUDENT, NOW + 3600, student, sizeof student);
	sign("alice", GQ_ROLE_INSTRUCTOR, NOW + 3600, instr, sizeof instr);
	*strchr(instr, '.') = '\0';
	snprintf(forged, sizeof forged, "%s%s", instr, strchr(student, '.'));
	assert_int_equal(verify(forged, &t), -EBADMSG);

	/* the payload text edited from student to instructor, the student's MAC kept */
	assert_memory_equal(student, "YWxpY2U6c3R1ZGVudDoxNzAwMDAzNjAw.",
	                    33); /* alice:student:... */
	snprintf(forged, sizeof forged, "%s%s",
	         "YWxpY2U6aW5zdHJ1Y3RvcjoxNzAwMDAzNjAw", /* alice:instructor:1700003600 */
	         strchr(student, '.'));
	assert_int_equal(verify(forged, &t), -EBADMSG);

	/* a token signed with another secret is a forgery here */
	{
		struct gq_secret other = secret("another-secret-of-16+");
		struct gq_token it = { .user = "alice",
			               .role = GQ_ROLE_INSTRUCTOR,
			               .expiry = NOW + 3600 };
		char enc[GQ_TOKEN_MAX];

		assert_int_equal(token_sign(&other, &it, enc, sizeof enc), 0);
		assert_int_equal(verify(enc, &t), -EBADMSG);
	}
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
		"",
		".",
		"abc",
		"abc.",
		".abc",
		"YWxpY2U6c3R1ZGVudDox.!!!!",
		"YWxpY2U6c3R1ZGVudDox==.AAAA",
		"a.b.c",
		"YWxpY2U6c3R1ZGVudDox.A",
		"YWxpY2U6c3R1ZGVudDox.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA AA",
	};
	char tok[GQ_TOKEN_MAX], big[GQ_TOKEN_MAX + 10];
	struct gq_token t;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(verify(bad[i], &t), -EBADMSG);
	assert_int_equal(verify(NULL, &t), -EBADMSG);
	sign("alice", GQ_ROLE_STUDENT, NOW + 3600, tok, sizeof tok);
	tok[2] = '*';
	assert_int_equal(verify(tok, &t), -EBADMSG);
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	big[10] = '.';
	assert_int_equal(verify(big, &t), -EBADMSG);
}

static void test_wrong_secret(void **state)
{
	struct gq_secret other = secret("a-completely-different-secret");
	char tok[GQ_TOKEN_MAX];
	struct gq_token t;

	sign("alice", GQ_ROLE_STUDENT, NOW + 3600, tok, sizeof tok);
	assert_int_equal(token_verify(&other, tok, NOW, &t), -EBADMSG);
}

static void test_sign_errors(void **state)
{
	struct gq_secret sec = secret("0123456789abcdef-secret");
	struct gq_token t = { .user = "alice", .role = GQ_ROLE_STUDENT, .expiry = NOW };
	char small[16], tok[GQ_TOKEN_MAX];

	assert_int_equal(token_sign(&sec, &t, small, sizeof small), -ENOSPC);
	t.role = 7;
	assert_int_equal(token_sign(&sec, &t, tok, sizeof tok), -EINVAL);
	t.role = GQ_ROLE_STUDENT;
	strcpy(t.user, "../root");
	assert_int_equal(token_sign(&sec, &t, tok, sizeof tok), -EINVAL);
	strcpy(t.user, "a:b");
	assert_int_equal(token_sign(&sec, &t, tok, sizeof tok), -EINVAL);
}

static void test_roles(void **state)
{
	enum gq_role r = GQ_ROLE_STUDENT;

	assert_int_equal(token_role_parse("instructor", &r), 0);
	assert_int_equal(r, GQ_ROLE_INSTRUCTOR);
	assert_int_equal(token_role_parse("admin", &r), -EINVAL);
	assert_int_equal(token_role_parse("Student", &r), -EINVAL);
	assert_string_equal(token_role_name(GQ_ROLE_STUDENT), "student");
	assert_null(token_role_name(0));
}

static void write_secret(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_secret_file(void **state)
{
	char path[] = "/tmp/gq-secret-XXXXXX", err[256] = "";
	struct gq_secret sec, env;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);

	write_secret(path, "0123456789abcdef-secret\n", 0600);
	assert_int_equal(token_secret_load(path, &sec, err, sizeof err), 0);
	assert_int_equal(sec.len, strlen("0123456789abcdef-secret"));
	/* the same text from the environment gives the same secret */
	assert_int_equal(token_secret_from_string("0123456789abcdef-secret", &env, err, sizeof err),
	                 0);
	assert_memory_equal(sec.key, env.key, sec.len);

	write_secret(path, "0123456789abcdef-secret\n", 0640);
	assert_int_equal(token_secret_load(path, &sec, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	write_secret(path, "0123456789abcdef-secret\n", 0604);
	assert_int_equal(token_secret_load(path, &sec, err, sizeof err), -EPERM);

	write_secret(path, "  short \n", 0600);
	assert_int_equal(token_secret_load(path, &sec, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "shorter"));

	unlink(path);
	assert_int_equal(token_secret_load(path, &sec, err, sizeof err), -ENOENT);
	assert_int_equal(token_secret_from_string("tiny", &sec, err, sizeof err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_forged_signature),
		cmocka_unit_test(test_non_canonical_base64),
		cmocka_unit_test(test_role_escalation),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_sign_errors),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_secret_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
