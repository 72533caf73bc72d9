/*
 * cli_credentials.c — see cli_credentials.h for the file's place, format and
 * the permission rules.
 */
#include "cli_credentials.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void lk_cred_clear(lk_cred *cred)
{
    sodium_memzero(cred, sizeof *cred);
}

int lk_cred_path(char out[LK_CRED_PATH_MAX])
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    int n;
    if (xdg && xdg[0] == '/') {
        n = snprintf(out, LK_CRED_PATH_MAX, "%s/latchkey/credentials", xdg);
    } else {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (!home || home[0] != '/') return LK_CRED_EINVALID;
        n = snprintf(out, LK_CRED_PATH_MAX, "%s/.config/latchkey/credentials", home);
    }
    return n > 0 && n < LK_CRED_PATH_MAX ? LK_CRED_OK : LK_CRED_EINVALID;
}

/* Copy value into dst (size) if it fits; else leave dst empty. */
static void take(char *dst, size_t size, const char *v, size_t len)
{
    if (len < size) {
        memcpy(dst, v, len);
        dst[len] = '\0';
    }
}

/* The open file must be ours, regular, and readable by us alone. */
static int check_file(int fd, const char *path, char *msg, size_t msgsize)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(msg, msgsize, "the credentials file %s is not a regular file", path);
        return LK_CRED_EINVALID;
    }
    if (st.st_uid != geteuid()) {
        snprintf(msg, msgsize,
                 "refusing to read the credentials file %s: it belongs to another user; "
                 "remove it and run `latchkey login` again",
                 path);
        return LK_CRED_EINSECURE;
    }
    if (st.st_mode & 077) {
        snprintf(msg, msgsize,
                 "refusing to read the credentials file %s: others can read it (mode %04o); "
                 "fix it with: chmod 600 %s",
                 path, (unsigned)(st.st_mode & 07777), path);
        return LK_CRED_EINSECURE;
    }
    return LK_CRED_OK;
}

/* Read the whole file into buf (size bytes, NUL-ended); a file that does
 * not fit in size - 1 bytes is refused. */
static int read_file(int fd, const char *path, char *buf, size_t size, char *msg, size_t msgsize)
{
    size_t len = 0;
    assert(size > 1);
    for (;;) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(msg, msgsize, "cannot read the credentials file %s: %s", path,
                     strerror(errno));
            return LK_CRED_EINVALID;
        }
        if (n == 0) break;
        len += (size_t)n;
        if (len == size - 1) {
            snprintf(msg, msgsize, "the credentials file %s is too large", path);
            return LK_CRED_EINVALID;
        }
    }
    buf[len] = '\0';
    return LK_CRED_OK;
}

/* One "key=value" line into cred; unknown keys and comments are skipped. */
static void parse_line(char *line, lk_cred *cred)
{
    size_t ll = strlen(line);
    while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' '))
        line[--ll] = '\0';
    char *eq = strchr(line, '=');
    if (line[0] == '#' || !eq) return;
    *eq = '\0';
    const char *v = eq + 1;
    size_t vlen = strlen(v);
    if (strcmp(line, "url") == 0)
        take(cred->url, sizeof cred->url, v, vlen);
    else if (strcmp(line, "token") == 0)
        take(cred->token, sizeof cred->token, v, vlen);
    else if (strcmp(line, "key_id") == 0)
        take(cred->key_id, sizeof cred->key_id, v, vlen);
    else if (strcmp(line, "email") == 0)
        take(cred->email, sizeof cred->email, v, vlen);
}

int lk_cred_load(const char *path, lk_cred *cred, char *msg, size_t msgsize)
{
    char buf[LK_CRED_FILE_MAX + 1];
    memset(cred, 0, sizeof *cred);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return LK_CRED_ENOENT;
        snprintf(msg, msgsize, "cannot open the credentials file %s: %s", path, strerror(errno));
        return errno == ELOOP ? LK_CRED_EINSECURE : LK_CRED_EINVALID;
    }
    int rc = check_file(fd, path, msg, msgsize);
    if (rc == LK_CRED_OK) rc = read_file(fd, path, buf, sizeof buf, msg, msgsize);
    if (rc != LK_CRED_OK) goto out;
    for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        if ((nl = strchr(line, '\n'))) *nl = '\0';
        parse_line(line, cred);
    }
    if (lk_token_parse(cred->token, strlen(cred->token), NULL) != LK_TOKEN_OK) {
        snprintf(msg, msgsize,
                 "the credentials file %s holds no valid token; run `latchkey login` again", path);
        lk_cred_clear(cred);
        rc = LK_CRED_EINVALID;
    }
out:
    sodium_memzero(buf, sizeof buf);
    close(fd);
    return rc;
}

/* mkdir -p for the folders above path's last component; the last folder
 * (latchkey/) and any folder we create get mode 0700. */
static int make_parents(const char *path, char *msg, size_t msgsize)
{
    char dir[LK_CRED_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                snprintf(msg, msgsize, "cannot create %s: %s", dir, strerror(errno));
                return LK_CRED_EIO;
            }
            *p = c;
            if (c == '\0') break;
        }
    }
    /* the folder holding the file: ours, and closed to others */
    struct stat st;
    if (stat(dir, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077)) chmod(dir, 0700);
    return 0;
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

int lk_cred_save(const char *path, const lk_cred *cred, char *msg, size_t msgsize)
{
    char tmp[LK_CRED_PATH_MAX + 16];
    char text[LK_CRED_FILE_MAX];
    int rc = make_parents(path, msg, msgsize);
    if (rc != 0) return rc;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= sizeof tmp)
        return LK_CRED_EIO;
    int n = snprintf(text, sizeof text,
                     "# latchkey credentials, written by `latchkey login`.\n"
                     "# Keep this file private (mode 0600). `latchkey logout` revokes the key\n"
                     "# and removes the file.\n"
                     "url=%s\ntoken=%s\nkey_id=%s\nemail=%s\n",
                     cred->url, cred->token, cred->key_id, cred->email);
    if (n < 0 || (size_t)n >= sizeof text) return LK_CRED_EIO;

    rc = LK_CRED_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(msg, msgsize, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, (size_t)n) != 0 || fsync(fd) != 0) {
        snprintf(msg, msgsize, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        snprintf(msg, msgsize, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = LK_CRED_OK;
out:
    sodium_memzero(text, sizeof text);
    return rc;
}

int lk_cred_remove(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT) return LK_CRED_EIO;
    return LK_CRED_OK;
}
