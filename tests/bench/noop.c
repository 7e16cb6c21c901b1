/* The floor for `make bench`'s switch section: a static musl program that does nothing. */
int
main(void)
{
	return 0;
}
