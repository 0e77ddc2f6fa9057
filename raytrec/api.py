"""What a plugin imports from raytrec: the contract of each kind and what writing one needs.

Everything here is kept stable; anything else inside raytrec may move. Besides this module a
plugin imports ``raytrec.hookimpl`` (to register), ``raytrec.testing`` (in its tests), and
the module of a built-in component it extends (``raytrec.losses.infonce.InfoNCELoss``).
raytrec's own loop and tasks use these same names.
"""

from raytrec.config.run_config import ComponentSpec, RunConfig
from raytrec.config.sections import EvalSection, ScalingSection, SplitConfig, TrainSection
from raytrec.data import DataInfo, Dataset, RawData
from raytrec.data.base import ITEM, RATING, SPLITS, TIMESTAMP, USER
from raytrec.data.movielens import default_cache_dir
from raytrec.data.store import UserItems
from raytrec.data.tabular import CsvDataset, ParquetDataset
from raytrec.distance import COSINE, DOT, L2, Distance, distance_named
from raytrec.errors import ArgumentError, ConformanceError, DataError, Problem
from raytrec.evaluation import MetricSums
from raytrec.evaluation.distributed import all_reduce_sums
from raytrec.evaluation.users import sample_users
from raytrec.hookspecs import Register, hookimpl
from raytrec.losses import Loss, LossInput, LossOutput, Selection
from raytrec.mappers import ItemModel, Mapper, MapperOutput
from raytrec.retrievers import Retriever
from raytrec.samplers import Negatives, Sampler
from raytrec.samplers.base import check_num_negatives
from raytrec.tasks import Baselines, Batches, Evaluation, Task
from raytrec.tasks.outputs import EMBEDDING_FILES, embedding_table, write_embeddings

__all__ = [
    "COSINE", "DOT", "EMBEDDING_FILES", "ITEM", "L2", "RATING", "SPLITS", "TIMESTAMP", "USER",
    "ArgumentError", "Baselines", "Batches", "ComponentSpec", "ConformanceError", "CsvDataset",
    "DataError", "DataInfo", "Dataset", "Distance", "EvalSection", "Evaluation", "ItemModel",
    "Loss", "LossInput", "LossOutput", "Mapper", "MapperOutput", "MetricSums", "Negatives",
    "ParquetDataset", "Problem", "RawData", "Register", "Retriever", "RunConfig", "Sampler",
    "ScalingSection", "Selection", "SplitConfig", "Task", "TrainSection", "UserItems",
    "all_reduce_sums", "check_num_negatives", "default_cache_dir", "distance_named",
    "embedding_table", "hookimpl", "sample_users", "write_embeddings",
]
