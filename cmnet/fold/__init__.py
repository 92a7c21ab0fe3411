"""One fold, one room per job:

    batches      clips from the cache onto the device; ClipTransform (what the encoders see,
                 flips and shifts, L_ID's views), built once from the configuration
    augment      the batched view augmentations and ImageNet normalisation
    device       the configured device and precision
    loop         build (model, loss, optimiser, schedule), one step, one epoch
    evaluate     the last epoch on the test clips; the ICE shortcut diagnostic
    diagnostics  the shortcut statistics themselves
    scalars      per-epoch TensorBoard event files
    run          run_fold: resume, train, finish, refinish; writes through cmnet.runs.layout
"""


class FoldError(RuntimeError):
    """A fold could not finish (e.g. a non-finite loss); names the fold."""
