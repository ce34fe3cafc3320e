/** The seeded PRNG lives in core (dataset splits use it too); the trainer's modules import it from here. */
export { mulberry32 } from '../../core/random';
