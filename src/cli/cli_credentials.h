/*
 * cli_credentials.h — the credentials file that `latchkey login` writes and
 * every later command may read: $XDG_CONFIG_HOME/latchkey/credentials, or
 * ~/.config/latchkey/credentials when XDG_CONFIG_HOME is unset, empty or
 * relative (as the XDG spec says).
 *
 * Format: text lines "key=value" — url, token, key_id, email — plus
 * comments starting with '#'. Unknown keys are ignored.
 *
 * Invariants:
 *  - Written with mode 0600 inside a folder created with mode 0700, through
 *    a temporary file and rename(), so a reader never sees half a file and
 *    the token is never in a file others can read, not even for a moment.
 *  - Read only if it is a regular file owned by us with no group/other
 *    permission bits; otherwise lk_cred_load refuses and says how to fix
 *    it. At most LK_CRED_FILE_MAX bytes are read.
 *  - The token in an lk_cred is wiped by lk_cred_clear; the file's text is
 *    wiped after parsing.
 */
#ifndef LK_CLI_CREDENTIALS_H
#define LK_CLI_CREDENTIALS_H

#include "id.h"
#include "token.h"

#include <stddef.h>

#define LK_CRED_PATH_MAX 4096
#define LK_CRED_URL_MAX 1024
#define LK_CRED_FILE_MAX 8192

enum lk_cred_result {
    LK_CRED_OK = 0,
    LK_CRED_ENOENT = -1,    /* no file */
    LK_CRED_EINSECURE = -2, /* others can read it, or not ours: refused */
    LK_CRED_EINVALID = -3,  /* unreadable or without a usable token */
    LK_CRED_EIO = -4,       /* could not write / remove */
};

typedef struct lk_cred {
    char url[LK_CRED_URL_MAX];
    char token[LK_TOKEN_SIZE];
    char key_id[LK_ID_SIZE];
    char email[256];
} lk_cred;

/* The file's path into out. 0, or LK_CRED_EINVALID when neither
 * XDG_CONFIG_HOME nor a home directory is known. */
int lk_cred_path(char out[LK_CRED_PATH_MAX]);

/* Read and check the file at path into *cred. On failure msg (msgsize
 * bytes) says what is wrong and how to fix it. */
int lk_cred_load(const char *path, lk_cred *cred, char *msg, size_t msgsize);

/* Write cred to path (creating the folders with mode 0700). */
int lk_cred_save(const char *path, const lk_cred *cred, char *msg, size_t msgsize);

/* Delete the file; ENOENT counts as done. */
int lk_cred_remove(const char *path);

/* Wipe the secret fields. */
void lk_cred_clear(lk_cred *cred);

#endif
