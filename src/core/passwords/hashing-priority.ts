/**
 * The nice value of the threads that compute argon2 (Linux; 0 is normal, 19 the lowest). A login
 * flood must not slow the requests of users already signed in: at 10 the scheduler gives a
 * hashing thread about a tenth of a core while the event loop (or anything else at normal
 * priority) wants it, and the whole core when nothing else does.
 */
export const HASHING_NICE = 10;
