"""The synthetic data generator: `vitrina-trainer generate`, the project's default data.

`assortment` names the shop's categories and what sells in them; `synthetic` draws customers,
sessions and events from them and writes the export's files.
"""

from vitrina_trainer.generator.synthetic import GeneratorConfig, generate, write_dataset

__all__ = ["GeneratorConfig", "generate", "write_dataset"]
