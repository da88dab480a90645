/* the swap store both hosts keep in memory: what leaves the arena, as ciphertext */
int	swapput(uvlong key, void *buf, usize n);
int	swapget(uvlong key, void *buf, usize n);
void	swapdel(uvlong key);
int	swapcount(void);
int	swapread(int i, uvlong *key, uchar **buf, usize *n);
void	swapclear(void);
extern void	(*swapinhook)(uvlong key);	/* told of each page the pager brings back; nil: nobody asks */
