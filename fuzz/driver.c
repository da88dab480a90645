/*
 * A libFuzzer target's inputs without libFuzzer: each argument, a file
 * or a directory of files, goes through LLVMFuzzerTestOneInput once.
 * `ninja coverage` links the targets with this under gcc --coverage to
 * count what the committed corpora reach.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t*, size_t);

static int
runfile(char *path)
{
	FILE *f;
	uint8_t *buf;
	long n;

	if((f = fopen(path, "rb")) == NULL){
		perror(path);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? n : 1);
	if(buf == NULL || fread(buf, 1, n, f) != (size_t)n){
		fprintf(stderr, "%s: cannot read\n", path);
		fclose(f);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	struct stat st;
	struct dirent *d;
	DIR *dir;
	char path[4096];
	int i, bad, n;

	bad = n = 0;
	for(i = 1; i < argc; i++){
		if(stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)){
			if((dir = opendir(argv[i])) == NULL)
				continue;
			while((d = readdir(dir)) != NULL){
				if(d->d_name[0] == '.')
					continue;
				snprintf(path, sizeof path, "%s/%s", argv[i], d->d_name);
				bad |= runfile(path);
				n++;
			}
			closedir(dir);
		}else{
			bad |= runfile(argv[i]);
			n++;
		}
	}
	printf("%d inputs\n", n);
	return bad;
}
