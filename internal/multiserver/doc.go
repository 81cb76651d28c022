// Package multiserver has no code of its own: its tests run Threadline as an operator runs it beyond one
// machine, several `threadline serve` processes (the real binary, built once) on one PostgreSQL database, and
// prove what the README says of them. A comment acknowledged by one server is read on the others and reaches
// their live subscribers; likes split across servers count exactly; a server killed with SIGKILL loses no
// acknowledged write and its subscribers catch up on another server from their cursors; PostgreSQL restarted
// under load loses nothing acknowledged and leaves no subscriber with a silent gap; `threadline site update`
// reaches running servers; rate limits are per server.
//
// The tests skip without PostgreSQL (see internal/pgtest); the restart test also needs PostgreSQL's programs
// (pg_ctl, initdb), with which it runs a cluster of its own.
package multiserver
