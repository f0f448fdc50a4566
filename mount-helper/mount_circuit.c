/* placeholder until the mount helper lands */
int main(void) { return 1; }
