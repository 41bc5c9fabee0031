#include <mysql.h>
#include <mariadb_rpl.h>

/* Swift cannot call C variadic functions or function-like macros: these wrap the binlog API's. */
static inline MARIADB_RPL *ferry_rpl_init(MYSQL *mysql) { return mariadb_rpl_init(mysql); }
static inline int ferry_rpl_set_file(MARIADB_RPL *rpl, const char *file, size_t length) {
    return mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file, length);
}
static inline int ferry_rpl_set_start(MARIADB_RPL *rpl, unsigned long position) {
    return mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, position);
}
static inline int ferry_rpl_set_server_id(MARIADB_RPL *rpl, unsigned int id) {
    return mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, id);
}
static inline int ferry_rpl_set_flags(MARIADB_RPL *rpl, unsigned int flags) {
    return mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, flags);
}
