package dev.aside.elasticsearch;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How a document is shown to Aside: the values of the configured fields, in order, joined by a space,
 * empty ones skipped. With fields [title, text] this is exactly Aside's own BEIR text (title + " " + text).
 */
final class FieldsText {
    private FieldsText() {}

    static String join(List<String> fields, Function<String, List<?>> valuesOf) {
        return fields.stream()
            .map(valuesOf)
            .filter(Objects::nonNull)
            .flatMap(List::stream)
            .filter(Objects::nonNull)
            .map(Object::toString)
            .filter(s -> s.isEmpty() == false)
            .collect(Collectors.joining(" "));
    }
}
