// PostgreSQL's own client library (Debian's libpq-dev), for the shared store (GuarantorStore/Postgres).
#include <postgresql/libpq-fe.h>
