// The error of one field of an object, as a Kubernetes StatusCause carries it.
// Apart from validation.ts, which reads the schemas from disk, so modules the
// dashboard bundles (usage.ts) can speak it too.

export interface FieldError {
  /** Kubernetes StatusCause reason: FieldValueInvalid, FieldValueRequired, ... */
  reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueTypeInvalid' | 'FieldValueTooLong' | 'FieldValueTooMany' | 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueNotFound';
  field: string;
  message: string;
}
