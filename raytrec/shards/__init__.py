"""ID tables sharded by rows across the workers, and the all-to-all they route through."""

from raytrec.shards.draw import draw_rows
from raytrec.shards.embedding import ShardedEmbedding, shard_embedding
from raytrec.shards.table import ShardedTable, fetch_rows, gather_table, shard_rows

__all__ = ["ShardedEmbedding", "ShardedTable", "draw_rows", "fetch_rows", "gather_table",
           "shard_embedding", "shard_rows"]
