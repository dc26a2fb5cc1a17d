/* Named constants a policy file may use as values (AF_UNIX, PROT_READ,
 * CLONE_NEWUSER, TIOCSTI, ...) and errno names (EPERM, ENOSYS, ...).
 *
 * Names are passed as (pointer, length) so the reader can look tokens up in
 * place without copying them. Pure: const tables only. */
#ifndef FORKBOX_POLICY_CONSTS_H
#define FORKBOX_POLICY_CONSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value of a named constant; negative C values (AT_FDCWD) are sign-extended
 * to 64 bits, which is how the kernel sees an int passed in a register. */
bool fbx_const_lookup(const char *name, size_t len, uint64_t *value);

/* Readers for the VALUE and ERRNO tokens of the policy grammar, at s[*pos]
 * (s need not be NUL-terminated; len bounds it). Leading blanks are skipped.
 *   VALUE: numbers (decimal, 0x hex, 0o octal, optionally negative: two's
 *          complement, as the kernel sees a negative int in a register) and
 *          constants, joined by '|' (but not '||', which ends the value).
 *   ERRNO: an errno name (EPERM) or a number from 0 to 4095.
 * On success *pos moves past the token; 0 is returned. On error *pos is the
 * offset of the offending token, msg says what is wrong (no location) and
 * -EINVAL is returned. */
int fbx_policy_read_value(const char *s, size_t len, size_t *pos,
			  uint64_t *value, char *msg, size_t msg_size);
int fbx_policy_read_errno(const char *s, size_t len, size_t *pos, int *value,
			  char *msg, size_t msg_size);

/* Describes the token at s[pos] for "expected X, got Y" messages: 'word',
 * 'c', "byte 0x01" or "end of line". Writes into buf and returns it. */
const char *fbx_policy_token(const char *s, size_t len, size_t pos, char *buf,
			     size_t size);

/* errno value of an errno name (EPERM); errno names only. */
bool fbx_errno_lookup(const char *name, size_t len, int *value);

/* Name of an errno value ("EPERM"), or NULL when it has none. */
const char *fbx_errno_name(int value);

#endif
