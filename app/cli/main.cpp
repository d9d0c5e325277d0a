// photosynth-cli: placeholder until the commands land.
int main() { return 0; }
